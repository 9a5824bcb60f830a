import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { apiKeys, type Database, qualificationEntries } from "@sendgate/db";
import { type App, createApp } from "@sendgate/gateway";
import { createLogger } from "../../apps/gateway/src/log.ts";
import { createKey, hashKey } from "../../apps/gateway/src/services/keys.ts";
import { scratchDatabase } from "../support/scratch-database.ts";
import { encodeLoose } from "./hostile.ts";
import {
  collectionOf,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  paramGroups,
} from "./openapi.ts";

/** The keys a case can carry: each is a principal the gateway tells apart. */
export const KEY_NAMES = ["operator", "instance", "other", "revoked"] as const;
export type KeyName = typeof KEY_NAMES[number];

/** One value tuple of a path parameter group, with the key whose call answered it. */
export interface Tuple {
  values: Record<string, string>;
  owner: KeyName;
}

const GROUP_CAP = 64;
const PINNED = 16;
const NAME_CAP = 48;
const OBJECT_CAP = 200;

/**
 * Values harvested from the gateway's own answers: path parameter tuples (a delivery's id, a
 * quarantine entry's channel and address) keyed by the collection that answered them, and leaf
 * values by property name (`address`, `nextCursor`, `externalId`). What a route creates while
 * being fuzzed becomes a fixture for the next cases, so a new route's objects are found too.
 */
export class Pools {
  readonly groups = new Map<string, Tuple[]>();
  readonly names = new Map<string, unknown[]>();
  /** Objects answered, their scalar fields only: donors of correlated values (see Hints). */
  readonly objects: Record<string, unknown>[] = [];
  private replaced = 0;
  /** Header parameter values that a route accepted (an Idempotency-Key to replay). */
  readonly headers = new Map<string, string[]>();
  /** The parameter groups each collection's objects fill, from every template of the document. */
  private readonly wanted = new Map<string, string[][]>();

  constructor(operations: Operation[]) {
    for (const op of operations) {
      for (const g of paramGroups(op.template)) {
        const list = this.wanted.get(g.collection) ?? [];
        if (!list.some((n) => n.join() === g.names.join())) list.push(g.names);
        this.wanted.set(g.collection, list);
      }
    }
  }

  static groupKey(collection: string, names: string[]): string {
    return `${collection}:${names.join(",")}`;
  }

  tuples(collection: string, names: string[]): Tuple[] {
    return this.groups.get(Pools.groupKey(collection, names)) ?? [];
  }

  /** Every tuple of every group, for cross-pool confusion (a message id on a delivery route). */
  allValues(): string[] {
    return [...this.groups.values()].flatMap((ts) => ts.flatMap((t) => Object.values(t.values)));
  }

  byName(name: string): unknown[] {
    return this.names.get(name) ?? [];
  }

  add(collection: string, names: string[], tuple: Tuple): void {
    const key = Pools.groupKey(collection, names);
    const list = this.groups.get(key) ?? [];
    const same = JSON.stringify(tuple.values);
    if (list.some((t) => JSON.stringify(t.values) === same)) return;
    list.push(tuple);
    // The first tuples are the fixtures: kept, so that later churn does not starve the routes.
    if (list.length > GROUP_CAP) list.splice(PINNED, 1);
    this.groups.set(key, list);
  }

  /** After a successful DELETE: the tuple is gone, its routes would only answer 404. */
  forget(collection: string, names: string[], values: Record<string, string>): void {
    const list = this.groups.get(Pools.groupKey(collection, names));
    if (!list) return;
    const same = JSON.stringify(values);
    const i = list.findIndex((t) => JSON.stringify(t.values) === same);
    if (i >= 0) list.splice(i, 1);
  }

  /** Takes what a 2xx JSON answer of `op` holds. */
  harvest(op: Operation, owner: KeyName, body: unknown): void {
    const collection = collectionOf(op.template);
    const objects = Array.isArray(body)
      ? body
      : body && typeof body === "object" && Array.isArray((body as { items?: unknown }).items)
      ? (body as { items: unknown[] }).items
      : [body];
    for (const object of objects.slice(0, 20)) {
      if (!object || typeof object !== "object") continue;
      const o = object as Record<string, unknown>;
      const scalars = Object.fromEntries(
        Object.entries(o).filter(([, v]) => v === null || typeof v !== "object"),
      );
      if (Object.keys(scalars).length >= 2 && this.objects.length < OBJECT_CAP) {
        this.objects.push(scalars);
      } else if (Object.keys(scalars).length >= 2) {
        this.objects[this.replaced++ % OBJECT_CAP] = scalars;
      }
      for (const names of this.wanted.get(collection) ?? []) {
        const values: Record<string, string> = {};
        for (const n of names) {
          const v = o[n];
          if (typeof v === "string" || typeof v === "number") values[n] = String(v);
        }
        if (Object.keys(values).length === names.length) {
          this.add(collection, names, { values, owner });
        }
      }
    }
    this.leaves(body, 0);
  }

  private leaves(value: unknown, depth: number): void {
    if (depth > 4 || !value || typeof value !== "object") return;
    const entries = Array.isArray(value)
      ? value.slice(0, 10).map((v) => ["", v] as const)
      : Object.entries(value);
    for (const [k, v] of entries) {
      if (k && (typeof v === "number" || (typeof v === "string" && v.length <= 300))) {
        const list = this.names.get(k) ?? [];
        if (!list.includes(v)) {
          list.push(v);
          if (list.length > NAME_CAP) list.shift();
          this.names.set(k, list);
        }
      } else this.leaves(v, depth + 1);
    }
  }

  rememberHeader(name: string, value: string): void {
    const list = this.headers.get(name) ?? [];
    if (list.includes(value)) return;
    list.push(value);
    if (list.length > NAME_CAP) list.shift();
    this.headers.set(name, list);
  }
}

/** The state of the database's application tables: a count and a hash per table. */
export type Fingerprint = Map<string, string>;

/** Everything a fuzz run drives: one gateway on one scratch database, its keys and fixtures. */
export interface World {
  backend: "pglite" | "postgres";
  database: Database;
  app: App;
  doc: OpenApiDocument;
  operations: Operation[];
  keys: Record<KeyName, string>;
  pools: Pools;
  tables: string[];
  /** The gateway's log lines (warn and above, JSON) since the checker last cleared them. */
  logs: string[];
  fingerprint(): Promise<{ state: Fingerprint; rows: number }>;
  /**
   * Mints a new key for each of the world's live keys that a case revoked (a fuzzed DELETE on
   * the key routes can hit the fuzzer's own): the cases after it would only ever hear 401.
   */
  healKeys(): Promise<boolean>;
  /**
   * The next transaction id the database will assign. A transaction that writes takes one; one
   * that only reads does not. Unchanged, it proves nothing was written without hashing a table.
   */
  writeMark(): Promise<string>;
  close(): Promise<void>;
}

/** The instance and role of each live key, to mint it again. */
const PRINCIPALS = {
  operator: { instance: "fuzz-ops", operator: true },
  instance: { instance: "fuzz-a", operator: false },
  other: { instance: "fuzz-b", operator: false },
} as const;

/**
 * Name resolution for the push endpoint check, with no network: example hosts resolve to a
 * public address, `internal.*` to a private one (the check must refuse it), the rest fails.
 */
function resolve(host: string): Promise<string[]> {
  if (/^internal\./u.test(host)) return Promise.resolve(["10.0.0.7"]);
  if (/(^|\.)(example\.(com|org|net)|googleapis\.com)$/u.test(host)) {
    return Promise.resolve(["93.184.216.34"]);
  }
  return Promise.reject(
    Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }),
  );
}

export async function openWorld(backend: "pglite" | "postgres"): Promise<World> {
  const { database, drop } = await scratchDatabase(backend, "sendgate_fuzz");
  const logs: string[] = [];
  // Warnings and errors only: the info line of every request would cost more than the case.
  const logger = createLogger({
    level: "warn",
    destination: { write: (line: string) => logs.push(line) },
  });
  // 429s are allowed answers but would hide the routes behind them: the limit is out of reach.
  const options = { database, rateLimit: { perSecond: 1e9, burst: 1e9 }, logger, resolve };
  const app = createApp(options);
  const keys: Record<KeyName, string> = { operator: "", instance: "", other: "", revoked: "" };
  for (const [name, p] of Object.entries(PRINCIPALS)) {
    keys[name as KeyName] = (await createKey(database, p.instance, p.operator)).key;
  }
  const revoked = await createKey(database, "fuzz-a", false);
  await database.db.update(apiKeys).set({ revokedAt: new Date() }).where(
    eq(apiKeys.keyHash, hashKey(revoked.key)),
  );
  keys.revoked = revoked.key;
  const doc = await (await app.request("/openapi.json")).json() as OpenApiDocument;
  const operations = operationsOf(doc);
  const tables = (await database.rows<{ table_name: string }>(sql`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`))
    .map((r) => r.table_name);
  const query = sql.raw(
    tables.map((t) =>
      `select '${t}' as t, count(*)::int as n, ` +
      `coalesce(sum(hashtext(x::text)::bigint), 0)::text as h from "${t}" as x`
    ).join(" union all "),
  );
  const world: World = {
    backend,
    database,
    app,
    doc,
    operations,
    keys,
    pools: new Pools(operations),
    tables,
    logs,
    async healKeys() {
      const live = Object.keys(PRINCIPALS) as (keyof typeof PRINCIPALS)[];
      const rows = await database.db.select({ hash: apiKeys.keyHash }).from(apiKeys).where(and(
        inArray(apiKeys.keyHash, live.map((k) => hashKey(keys[k]))),
        isNull(apiKeys.revokedAt),
      ));
      const valid = new Set(rows.map((r) => r.hash));
      let healed = false;
      for (const name of live) {
        if (valid.has(hashKey(keys[name]))) continue;
        const p = PRINCIPALS[name];
        keys[name] = (await createKey(database, p.instance, p.operator)).key;
        healed = true;
      }
      return healed;
    },
    async fingerprint() {
      const rows = await database.rows<{ t: string; n: number; h: string }>(query);
      return {
        state: new Map(rows.map((r) => [r.t, `${r.n}:${r.h}`])),
        rows: rows.reduce((sum, r) => sum + Number(r.n), 0),
      };
    },
    async writeMark() {
      const [row] = await database.rows<{ x: string }>(
        sql`select pg_snapshot_xmax(pg_current_snapshot())::text as x`,
      );
      return row!.x;
    },
    close: drop,
  };
  await seedFixtures(world);
  return world;
}

type Call = (
  method: string,
  path: string,
  key: KeyName,
  json?: unknown,
  contentType?: string,
  body?: string,
) => Promise<{ status: number; body: unknown }>;

/** A call made for the fixtures: its answer is harvested like a fuzz case's. */
function caller(world: World): Call {
  return async (method, path, key, json, contentType, raw) => {
    const headers: Record<string, string> = { authorization: `Bearer ${world.keys[key]}` };
    let body = raw;
    if (json !== undefined) body = JSON.stringify(json);
    if (body !== undefined) headers["content-type"] = contentType ?? "application/json";
    const res = await world.app.request(path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* a non-JSON answer harvests nothing */ }
    const op = world.operations.find((o) => o.method === method && matches(o.template, path));
    if (op && res.status < 300) world.pools.harvest(op, key, parsed);
    return { status: res.status, body: parsed };
  };
}

/** A concrete path matches a template (`/v1/deliveries/abc` and `/v1/deliveries/{id}`). */
export function matches(template: string, path: string): boolean {
  const t = template.split("/");
  const p = path.split("?")[0]!.split("/");
  return t.length === p.length && t.every((s, i) => /^\{.+\}$/u.test(s) || s === p[i]);
}

const ADDRESSES = {
  email: ["alice@example.com", "bob@example.org", "carol@sub.example.com", "dave@example.net"],
  sms: ["+33612345678", "+447700900123", "+14155550100"],
  push: ["https://push.example.com/send/abc123", "https://fcm.example.com/fcm/send/xyz"],
};

/**
 * A small world of each kind the routes act on, made through the API where the API can make it
 * (deliveries in every state, parts, rules, domain rules, quarantine entries) and in the
 * database where only sending can (qualification entries come from providers' answers). Each
 * step warns and goes on when it fails: the routes change under this suite, and a fixture the
 * API no longer accepts costs depth, not the run.
 */
export async function seedFixtures(world: World, again = false): Promise<void> {
  const call = caller(world);
  const warn = (what: string, r: { status: number; body: unknown }) => {
    // Sown again, the fixtures with fixed names (rules, domain rules) conflict: expected.
    if (r.status >= 300 && !again) {
      console.warn(`fuzz fixtures: ${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
    }
  };
  const pushSub = (endpoint: string) => ({
    endpoint,
    keys: {
      p256dh:
        "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
      auth: "tBHItJI5svbpez7KI4CCXg",
    },
  });
  const deliveries = [
    {
      channel: "email",
      content: { from: "News <news@example.com>", subject: "Hi", text: "Hello {{firstName}}" },
    },
    {
      channel: "email",
      content: { from: "news@example.com", subject: "Sale", html: "<p>Hi</p>" },
      externalRef: "fuzz-ref",
      maxTargetSize: 3,
    },
    { channel: "sms", content: { sender: "Sendgate", text: "Hello" } },
    { channel: "push", content: { title: "Hi", body: "Hello" } },
    {
      channel: "email",
      content: { from: "news@example.com", subject: "Later", text: "Later" },
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
      controlGroup: { ratio: 0.5 },
    },
  ];
  const ids: { id: string; channel: string }[] = [];
  for (const d of deliveries) {
    const r = await call("POST", "/v1/deliveries", "instance", d);
    warn(`POST /v1/deliveries (${d.channel})`, r);
    const id = (r.body as { id?: string } | null)?.id;
    if (id) ids.push({ id, channel: d.channel });
  }
  const other = await call("POST", "/v1/deliveries", "other", deliveries[0]);
  warn("POST /v1/deliveries (other instance)", other);
  for (const [i, { id, channel }] of ids.entries()) {
    const list = ADDRESSES[channel as keyof typeof ADDRESSES];
    const recipients = list.map((a, n) => ({
      externalId: `fx${i}-${n}`,
      address: channel === "push" ? pushSub(a) : a,
      fields: { firstName: `Name${n}` },
    }));
    recipients.push({
      externalId: `fx${i}-bad`,
      address: "not an address",
      fields: { firstName: "X" },
    });
    warn(
      "POST parts",
      await call("POST", `/v1/deliveries/${id}/parts`, "instance", { recipients }),
    );
    const ndjson = recipients.map((r) => JSON.stringify({ ...r, externalId: `${r.externalId}-nd` }))
      .join("\n");
    warn(
      "POST parts (ndjson)",
      await call(
        "POST",
        `/v1/deliveries/${id}/parts`,
        "instance",
        undefined,
        "application/x-ndjson",
        ndjson,
      ),
    );
  }
  // One delivery of each state: draft (most), running, cancelled.
  if (ids[1]) warn("start", await call("POST", `/v1/deliveries/${ids[1].id}/start`, "instance"));
  if (ids[2]) warn("cancel", await call("POST", `/v1/deliveries/${ids[2].id}/cancel`, "instance"));

  for (const d of ["example.com", "*.example.org", "*"]) {
    warn(
      `POST /v1/domain-rules ${d}`,
      await call("POST", "/v1/domain-rules", "operator", {
        domain: d,
        rate: { count: 100, periodSeconds: 60 },
        ...(d === "example.com" ? { dkim: { domainName: "example.com", keySelector: "s1" } } : {}),
      }),
    );
  }
  for (
    const [n, rule] of [
      { channel: "email", pattern: "mailbox full", type: "soft", reason: 3, note: "fuzz" },
      { channel: "sms", pattern: "^UNDELIV \\d+$", regex: true, type: "hard", reason: 1 },
    ].entries()
  ) {
    warn(
      `POST /v1/rules ${n}`,
      await call("POST", "/v1/rules", "operator", { id: `op-fuzz-${n}`, ...rule }),
    );
  }
  for (const [channel, list] of Object.entries(ADDRESSES)) {
    for (const [n, address] of list.entries()) {
      const status = ["denylisted", "quarantined", "allowlisted", "valid"][n % 4];
      warn(
        `PUT /v1/quarantine/${channel}`,
        await call("PUT", `/v1/quarantine/${channel}/${encodeURIComponent(address)}`, "operator", {
          status,
          comment: "fuzz fixture",
        }),
      );
    }
  }
  warn(
    "POST /v1/quarantine/import",
    await call(
      "POST",
      "/v1/quarantine/import?channel=email",
      "operator",
      undefined,
      "text/csv",
      "address,comment\nimported@example.com,fuzz\nother@example.net,\n",
    ),
  );
  try {
    await world.database.db.insert(qualificationEntries).values([
      {
        channel: "email",
        normalizedText: "550 5.1.1 <*>: user unknown",
        firstText: "550 5.1.1 <a@example.com>: user unknown",
        type: "hard",
        reason: 1,
        status: "keep",
        ruleId: "op-fuzz-0",
      },
      {
        channel: "email",
        normalizedText: "421 try again later",
        firstText: "421 Try again later",
        type: "soft",
        reason: 3,
        status: "toQualify",
      },
      {
        channel: "sms",
        normalizedText: "UNDELIV #",
        firstText: "UNDELIV 001",
        type: "hard",
        reason: 1,
        status: "keep",
      },
    ]).onConflictDoNothing();
  } catch (error) {
    console.warn(`fuzz fixtures: qualification entries not written: ${(error as Error).message}`);
  }
  // Again, what the calls answered is in the pools already; the lists need no second reading.
  if (!again) await harvestAll(world, call);
}

/**
 * Reads every GET route twice with the keys that own the pools: the lists fill the pools of
 * the routes under them (deliveries, then their messages), whatever the document holds.
 */
async function harvestAll(world: World, call: Call): Promise<void> {
  for (let pass = 0; pass < 2; pass++) {
    for (const op of world.operations.filter((o) => o.method === "GET")) {
      const keys: KeyName[] = op.operatorOnly ? ["operator"] : ["instance", "other"];
      const groups = paramGroups(op.template);
      for (const key of keys) {
        if (groups.length === 0) {
          await call("GET", op.template, key);
          continue;
        }
        // Only the first group varies; a template with two groups takes each's first tuple.
        const first = groups[0]!;
        for (const t of world.pools.tuples(first.collection, first.names).slice(0, 6)) {
          if (t.owner !== key && !op.operatorOnly) continue;
          let path = op.template;
          let complete = true;
          for (const g of groups) {
            const tuple = g === first ? t : world.pools.tuples(g.collection, g.names)[0];
            for (const n of g.names) {
              const v = tuple?.values[n];
              if (v === undefined) complete = false;
              else path = path.replace(`{${n}}`, encodeLoose(v));
            }
          }
          if (complete) await call("GET", path, key);
        }
      }
    }
  }
}
