import { beforeEach, expect, it } from "vitest";
import { asc, eq, sql } from "drizzle-orm";
import { compileRules, qualify, shippedRules } from "@sendgate/core";
import { qualificationEntries, qualificationRules, quarantine } from "@sendgate/db";
import { loadRuleSet, syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { describeBackends } from "./support/harness.ts";

interface Entry {
  id: number;
  channel: string;
  normalizedText: string;
  type: string;
  reason: number;
  status: string;
}
interface Rule {
  id: string;
  layer: string;
  channel: string;
  pattern: string;
  type: string;
  reason: number;
  position: number;
  note: string | null;
}
interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

const read = <T>(res: Response) => res.json() as Promise<T>;

/** The field paths a 400 answer names, after checking it is problem+json. */
async function failingPaths(res: Response): Promise<string[]> {
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return ((await read<Problem>(res)).errors ?? []).map((e) => e.path).sort();
}

const TEXT_A = "550 5.1.1 <*>: user unknown (id #xxx#)";
const TEXT_B = "550 5.7.1 <*>: message refused";

const opRule = {
  channel: "email",
  pattern: "user unknown",
  type: "soft",
  reason: 3,
  note: "ISP outage",
};

describeBackends("qualification", (s) => {
  beforeEach(async () => {
    const { db } = s().database;
    await db.delete(qualificationEntries);
    await db.delete(quarantine);
    await db.delete(qualificationRules).where(eq(qualificationRules.layer, "operator"));
  });

  async function seedEntries() {
    const { db } = s().database;
    const rows = await db.insert(qualificationEntries).values([
      {
        channel: "email",
        normalizedText: TEXT_A,
        firstText: "550 5.1.1 <jane@example.com>: user unknown (id 8A3F21)",
        type: "hard",
        reason: 1,
        status: "keep",
        ruleId: "email-user-unknown-en",
      },
      {
        channel: "email",
        normalizedText: TEXT_B,
        firstText: "550 5.7.1 <joe@example.com>: Message Refused",
        type: "soft",
        reason: 20,
        status: "keep",
      },
      {
        channel: "email",
        normalizedText: "421 try again later",
        firstText: "421 Try again later",
        type: "ignored",
        reason: 3,
        status: "toQualify",
      },
      {
        channel: "sms",
        normalizedText: "SR smsc UNDELIV 001|#MESSAGE#",
        firstText: "SR smsc UNDELIV 001|#MESSAGE#",
        type: "hard",
        reason: 1,
        status: "keep",
      },
      {
        channel: "sms",
        normalizedText: TEXT_A,
        firstText: TEXT_A,
        type: "undefined",
        reason: 0,
        status: "toQualify",
      },
    ]).returning();
    return rows;
  }

  it("answers 403 to an instance key on every route", async () => {
    const { call } = s();
    const key = await s().key("acme");
    const calls: [string, string, unknown?][] = [
      ["GET", "/v1/qualification"],
      ["PATCH", "/v1/qualification/1", { status: "keep" }],
      ["POST", "/v1/qualification/requalify", {
        channel: "email",
        text: TEXT_A,
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-02T00:00:00Z",
      }],
      ["GET", "/v1/rules"],
      ["POST", "/v1/rules", opRule],
      ["GET", "/v1/rules/op-x"],
      ["PUT", "/v1/rules/op-x", opRule],
      ["DELETE", "/v1/rules/op-x"],
    ];
    for (const [method, path, json] of calls) {
      const res = await call(method, path, { key, json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("lists entries filtered by status, channel, reason and text, a page at a time", async () => {
    const { call } = s();
    const seeded = await seedEntries();
    const ids = (items: Entry[]) => items.map((e) => e.id);
    const list = async (query: string) =>
      read<{ items: Entry[]; nextCursor: string | null }>(
        await call("GET", `/v1/qualification${query}`),
      );

    expect(ids((await list("")).items)).toEqual(ids(seeded as Entry[]));
    expect(ids((await list("?status=toQualify")).items)).toEqual([seeded[2]!.id, seeded[4]!.id]);
    expect(ids((await list("?channel=sms&reason=1")).items)).toEqual([seeded[3]!.id]);
    // Case-insensitive, in the normalized text or in the first text.
    expect(ids((await list("?text=USER%20UNKNOWN")).items)).toEqual([seeded[0]!.id, seeded[4]!.id]);
    expect(ids((await list("?text=jane%40example")).items)).toEqual([seeded[0]!.id]);
    expect(ids((await list("?text=%25")).items)).toEqual([]); // taken literally, not as a LIKE wildcard

    const seen: number[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: { items: Entry[]; nextCursor: string | null } = await list(
        `?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.items));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(ids(seeded as Entry[]));

    expect(await failingPaths(await call("GET", "/v1/qualification?status=maybe&limit=0"))).toEqual(
      ["query.limit", "query.status"],
    );
  });

  it("qualifies an entry, and refuses a type the reason does not allow", async () => {
    const { call } = s();
    const [entry] = await seedEntries();
    const path = `/v1/qualification/${entry!.id}`;

    const ok = await call("PATCH", path, { json: { type: "soft", reason: 3, status: "ignore" } });
    expect(ok.status).toBe(200);
    expect(await read<Entry>(ok)).toMatchObject({
      id: entry!.id,
      type: "soft",
      reason: 3,
      status: "ignore",
      normalizedText: TEXT_A,
    });

    // Reason 1 (user unknown) is hard only: the field the caller set is named.
    expect(await failingPaths(await call("PATCH", path, { json: { reason: 1 } }))).toEqual([
      "reason",
    ]);
    expect(await failingPaths(await call("PATCH", path, { json: { type: "hard", reason: 5 } })))
      .toEqual(["type"]);
    expect(await failingPaths(await call("PATCH", path, { json: { type: "undefined" } }))).toEqual([
      "type",
    ]);
    expect(await failingPaths(await call("PATCH", path, { json: { reason: 13 } }))).toEqual([
      "reason",
    ]); // no such code
    expect(
      await failingPaths(await call("PATCH", path, { json: { status: "maybe", colour: "red" } })),
    ).toEqual(["colour", "status"]);
    expect(await failingPaths(await call("PATCH", path, { json: {} }))).toEqual(["(body)"]);
    // Nothing of the refused patches was written.
    expect(await read<Entry>(await call("PATCH", path, { json: { type: "ignored" } })))
      .toMatchObject({ type: "ignored", reason: 3, status: "ignore" });

    expect((await call("PATCH", "/v1/qualification/999999", { json: { status: "keep" } })).status)
      .toBe(404);
    expect((await call("PATCH", "/v1/qualification/abc", { json: { status: "keep" } })).status)
      .toBe(404);
  });

  it("keeps shipped rules read-only and operator rules editable", async () => {
    const { call, database } = s();
    await syncShippedRules(database);
    const shipped = await read<{ items: Rule[] }>(await call("GET", "/v1/rules?layer=shipped"));
    expect(shipped.items.map((r) => r.id)).toEqual(shippedRules.map((r) => r.id));
    const userUnknown = "email-user-unknown-en";

    const created = await call("POST", "/v1/rules", { json: opRule });
    expect(created.status).toBe(201);
    const rule = await read<Rule>(created);
    expect(rule).toMatchObject({ ...opRule, layer: "operator", position: 0 });
    expect(rule.id).toMatch(/^op-/u);
    const named = await read<Rule>(
      await call("POST", "/v1/rules", {
        json: { ...opRule, id: "op-outage", pattern: "^550 5\\.1\\.1", regex: true },
      }),
    );
    expect(named).toMatchObject({ id: "op-outage", position: 1 });
    // An explicit position takes that place; the rules from there on move down.
    const first = await read<Rule>(
      await call("POST", "/v1/rules", { json: { ...opRule, id: "op-first", position: 0 } }),
    );
    expect(first.position).toBe(0);

    const email = await read<{ items: Rule[] }>(await call("GET", "/v1/rules?channel=email"));
    expect(email.items.slice(0, 3).map((r) => r.id)).toEqual(["op-first", rule.id, "op-outage"]);
    expect(email.items.slice(3).every((r) => r.layer === "shipped" && r.channel === "email")).toBe(
      true,
    );
    expect((await read<{ items: Rule[] }>(await call("GET", "/v1/rules?layer=operator"))).items)
      .toHaveLength(3);

    expect(await read<Rule>(await call("GET", `/v1/rules/${rule.id}`))).toMatchObject({
      id: rule.id,
      layer: "operator",
    });
    expect(await read<Rule>(await call("GET", `/v1/rules/${userUnknown}`))).toMatchObject({
      layer: "shipped",
      type: "hard",
      reason: 1,
    });

    const replaced = await call("PUT", `/v1/rules/${rule.id}`, {
      json: { ...opRule, pattern: "no such user", type: "hard", reason: 1 },
    });
    expect(replaced.status).toBe(200);
    expect(await read<Rule>(replaced)).toMatchObject({
      id: rule.id,
      pattern: "no such user",
      type: "hard",
      reason: 1,
      note: "ISP outage",
      position: 1,
    });

    for (const method of ["PUT", "DELETE"]) {
      const res = await call(
        method,
        `/v1/rules/${userUnknown}`,
        method === "PUT" ? { json: opRule } : {},
      );
      expect(res.status).toBe(409);
      expect((await read<{ detail: string }>(res)).detail).toBe(
        "shipped rules are read-only; add an operator rule to override",
      );
    }
    expect((await call("POST", "/v1/rules", { json: { ...opRule, id: "op-outage" } })).status).toBe(
      409,
    );

    expect((await call("DELETE", "/v1/rules/op-outage")).status).toBe(204);
    expect((await call("GET", "/v1/rules/op-outage")).status).toBe(404);
    expect((await call("PUT", "/v1/rules/op-outage", { json: opRule })).status).toBe(404);
    expect((await call("DELETE", "/v1/rules/op-outage")).status).toBe(404);
    expect((await read<{ items: Rule[] }>(await call("GET", "/v1/rules?layer=shipped"))).items)
      .toHaveLength(shippedRules.length);
  });

  it("refuses a rule that cannot be used", async () => {
    const { call } = s();
    const post = (json: unknown) => call("POST", "/v1/rules", { json });
    expect(await failingPaths(await post({ ...opRule, pattern: "(unclosed", regex: true })))
      .toEqual(["pattern"]);
    expect(await failingPaths(await post({ ...opRule, type: "hard", reason: 5 }))).toEqual([
      "type",
    ]);
    expect(await failingPaths(await post({ ...opRule, id: "email-user-unknown-en" }))).toEqual([
      "id",
    ]);
    expect(
      await failingPaths(
        await post({ ...opRule, channel: "fax", retry: "sometimes", position: -1 }),
      ),
    ).toEqual(["channel", "position", "retry"]);
    expect(
      await failingPaths(await post({ channel: "email", pattern: "", type: "soft", reason: 3 })),
    ).toEqual(["pattern"]);
    expect(
      await failingPaths(await call("PUT", "/v1/rules/op-x", { json: { ...opRule, id: "op-x" } })),
    ).toEqual(["id"]);
    expect((await read<{ items: Rule[] }>(await call("GET", "/v1/rules?layer=operator"))).items)
      .toEqual([]);
  });

  it("refreshes the shipped layer without touching operator rules, and the operator layer wins", async () => {
    const { call, database } = s();
    const input = {
      channel: "email",
      kind: "smtp",
      code: 550,
      enhanced: "5.1.1",
      text: "<jane@example.com>: user unknown",
    } as const;
    await syncShippedRules(database);
    const before = qualify(compileRules(await loadRuleSet(database)), input).verdict;
    expect(before).toMatchObject({
      outcome: "failure",
      type: "hard",
      reason: 1,
      ruleId: "email-user-unknown-en",
    });

    const created = await read<Rule>(
      await call("POST", "/v1/rules", { json: { ...opRule, id: "op-outage", retry: "backoff" } }),
    );
    await syncShippedRules(database);
    await syncShippedRules(database, shippedRules.slice(0, 10)); // an older release: fewer shipped rules
    await syncShippedRules(database);
    const rules = await database.db.select().from(qualificationRules).orderBy(
      asc(qualificationRules.id),
    );
    expect(rules.filter((r) => r.layer === "shipped")).toHaveLength(shippedRules.length);
    expect(await read<Rule>(await call("GET", "/v1/rules/op-outage"))).toEqual(created);

    const set = await loadRuleSet(database);
    expect(set.operator).toEqual([{
      id: "op-outage",
      channel: "email",
      pattern: "user unknown",
      regex: false,
      type: "soft",
      reason: 3,
      retry: "backoff",
      note: "ISP outage",
    }]);
    expect(set.shipped.map((r) => r.id)).toEqual(shippedRules.map((r) => r.id));
    expect(qualify(compileRules(set), input).verdict).toMatchObject({
      type: "soft",
      reason: 3,
      retry: "backoff",
      ruleId: "op-outage",
      source: "rule",
    });
  });

  it("re-qualifies a text and releases exactly the quarantines it caused in the window", async () => {
    const { call, database } = s();
    await seedEntries();
    const at = (iso: string) => new Date(iso);
    const row = (
      address: string,
      status: string,
      causeText: string,
      since: string,
      channel = "email",
    ) => ({
      channel,
      address,
      status,
      errorCount: status === "erroneous" ? 3 : 1,
      lastType: "hard",
      lastReason: 1,
      lastText: `550 5.1.1 <${address}>: user unknown`,
      causeText,
      causeRuleId: "email-user-unknown-en",
      firstErrorAt: at(since),
      lastErrorAt: at(since),
      statusSince: at(since),
      comment: "before",
    });
    await database.db.insert(quarantine).values([
      row("a-in-1@example.com", "quarantined", TEXT_A, "2026-03-01T00:00:00Z"), // the window's first instant
      row("a-in-2@example.com", "quarantined", TEXT_A, "2026-03-01T23:59:59Z"),
      row("a-erroneous@example.com", "erroneous", TEXT_A, "2026-03-01T10:00:00Z"),
      row("a-before@example.com", "quarantined", TEXT_A, "2026-02-28T23:59:59Z"),
      row("a-after@example.com", "quarantined", TEXT_A, "2026-03-02T00:00:01Z"),
      row("b-in@example.com", "quarantined", TEXT_B, "2026-03-01T10:00:00Z"),
      row("a-denylisted@example.com", "denylisted", TEXT_A, "2026-03-01T10:00:00Z"),
      row("a-allowlisted@example.com", "allowlisted", TEXT_A, "2026-03-01T10:00:00Z"),
      row("+33600000001", "quarantined", TEXT_A, "2026-03-01T10:00:00Z", "sms"), // same text, another channel
    ]);
    const snapshot = async () =>
      new Map(
        (await database.db.select().from(quarantine)).map((r) => [`${r.channel}:${r.address}`, r]),
      );
    const before = await snapshot();
    const started = Date.now();

    const res = await call("POST", "/v1/qualification/requalify", {
      json: {
        channel: "email",
        text: TEXT_A,
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-02T00:00:00.000+00:00",
        type: "soft",
        reason: 3,
        status: "keep",
        comment: "ISP outage 1 March",
      },
    });
    expect(res.status).toBe(200);
    expect(await read(res)).toEqual({ entriesUpdated: 1, quarantinesReleased: 3 });

    const released = new Set([
      "email:a-in-1@example.com",
      "email:a-in-2@example.com",
      "email:a-erroneous@example.com",
    ]);
    const after = await snapshot();
    expect(after.size).toBe(before.size);
    for (const [key, was] of before) {
      const now = after.get(key)!;
      if (!released.has(key)) {
        expect(now, key).toEqual(was);
        continue;
      }
      expect(now, key).toEqual({
        ...was,
        status: "valid",
        errorCount: 0,
        comment: "ISP outage 1 March",
        statusSince: now.statusSince,
        updatedAt: now.updatedAt,
      });
      expect(now.statusSince.getTime()).toBeGreaterThanOrEqual(started - 1000);
    }

    const entries = await database.db.select().from(qualificationEntries).where(
      eq(qualificationEntries.normalizedText, TEXT_A),
    ).orderBy(qualificationEntries.channel);
    expect(entries.map((e) => [e.channel, e.type, e.reason, e.status])).toEqual([[
      "email",
      "soft",
      3,
      "keep",
    ], ["sms", "undefined", 0, "toQualify"]]);

    // Again: nothing left to release in the window.
    const again = await call("POST", "/v1/qualification/requalify", {
      json: {
        channel: "email",
        text: TEXT_A,
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-02T00:00:00Z",
      },
    });
    expect(await read(again)).toEqual({ entriesUpdated: 0, quarantinesReleased: 0 });
  });

  it("re-qualifies every text of a rule; release: false leaves the quarantine alone", async () => {
    const { call, database } = s();
    await seedEntries();
    const base = {
      errorCount: 1,
      lastType: "hard",
      lastReason: 1,
      statusSince: new Date("2026-03-01T10:00:00Z"),
    };
    await database.db.insert(quarantine).values([
      {
        channel: "email",
        address: "x@example.com",
        status: "quarantined",
        causeText: TEXT_A,
        causeRuleId: "email-user-unknown-en",
        ...base,
      },
      {
        channel: "email",
        address: "y@example.com",
        status: "quarantined",
        causeText: TEXT_B,
        causeRuleId: "email-refused",
        ...base,
      },
    ]);
    const window = {
      channel: "email",
      ruleId: "email-user-unknown-en",
      from: "2026-03-01T00:00:00Z",
      to: "2026-03-02T00:00:00Z",
    };

    const kept = await call("POST", "/v1/qualification/requalify", {
      json: { ...window, status: "ignore", release: false },
    });
    expect(await read(kept)).toEqual({ entriesUpdated: 1, quarantinesReleased: 0 });
    expect((await database.db.select().from(quarantine)).every((r) => r.status === "quarantined"))
      .toBe(true);

    const res = await call("POST", "/v1/qualification/requalify", { json: window });
    expect(await read(res)).toEqual({ entriesUpdated: 0, quarantinesReleased: 1 });
    const rows = await database.db.select().from(quarantine).orderBy(quarantine.address);
    expect(rows.map((r) => [r.address, r.status, r.errorCount, r.comment])).toEqual([[
      "x@example.com",
      "valid",
      0,
      null,
    ], ["y@example.com", "quarantined", 1, null]]);
    const [entry] = await database.db.select().from(qualificationEntries).where(
      eq(qualificationEntries.ruleId, "email-user-unknown-en"),
    );
    expect(entry).toMatchObject({
      normalizedText: TEXT_A,
      type: "hard",
      reason: 1,
      status: "ignore",
    });
  });

  it("refuses a re-qualification that names no single text, an empty window or a bad pair", async () => {
    const { call, database } = s();
    await seedEntries();
    const post = (json: unknown) => call("POST", "/v1/qualification/requalify", { json });
    const window = { channel: "email", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z" };
    expect(
      await failingPaths(await post({ ...window, text: TEXT_A, ruleId: "email-user-unknown-en" })),
    ).toEqual(["ruleId", "text"]);
    expect(await failingPaths(await post(window))).toEqual(["ruleId", "text"]);
    expect(await failingPaths(await post({ ...window, text: TEXT_A, to: window.from }))).toEqual([
      "to",
    ]);
    expect(
      await failingPaths(
        await post({ ...window, text: TEXT_A, from: "yesterday", channel: "fax" }),
      ),
    ).toEqual(["channel", "from"]);
    expect(
      await failingPaths(await post({ ...window, text: "no such text", type: "hard", reason: 5 })),
    ).toEqual(["type"]);
    // The entry of A is hard 1: reason 5 alone would make it hard 5.
    expect(await failingPaths(await post({ ...window, text: TEXT_A, reason: 5 }))).toEqual([
      "reason",
    ]);
    expect(await failingPaths(await post({ ...window, text: TEXT_A, release: "yes" }))).toEqual([
      "release",
    ]);
    const [entry] = await database.db.select().from(qualificationEntries).where(
      sql`${qualificationEntries.normalizedText} = ${TEXT_A} and ${qualificationEntries.channel} = 'email'`,
    );
    expect(entry).toMatchObject({ type: "hard", reason: 1, status: "keep" });
  });

  it("documents the routes in the OpenAPI document", async () => {
    const doc = await read<
      {
        paths: Record<
          string,
          Record<string, { tags: string[]; responses: Record<string, unknown> }>
        >;
      }
    >(await s().call("GET", "/openapi.json", { key: null }));
    for (
      const [path, method] of [
        ["/v1/qualification", "get"],
        ["/v1/qualification/{id}", "patch"],
        ["/v1/qualification/requalify", "post"],
        ["/v1/rules", "post"],
        ["/v1/rules/{id}", "delete"],
      ] as const
    ) {
      expect(doc.paths[path]?.[method]?.responses, `${method} ${path}`).toHaveProperty("403");
    }
    expect(doc.paths["/v1/rules/{id}"]?.put?.responses).toHaveProperty("409");
  });
});
