import { Buffer } from "node:buffer";
import fc from "fast-check";
import { hintsFor } from "./hints.ts";
import {
  DIRTY_STRINGS,
  encodeLoose,
  FORGED_CURSORS,
  HOSTILE_HEADER_VALUES,
  HOSTILE_SEGMENTS,
  NOT_UUIDS,
  textOf,
} from "./hostile.ts";
import {
  features,
  mutate,
  mutateText,
  mutationChoice,
  RAW_MUTATIONS,
  serialize,
  stringFeatures,
} from "./mutate.ts";
import {
  type OpenApiDocument,
  type Operation,
  type Parameter,
  paramGroups,
  resolve,
  type Schema,
} from "./openapi.ts";
import { schemaArbitrary } from "./schema-arbitrary.ts";
import type { KeyName, World } from "./world.ts";

/** One request the fuzzer sends, and what it is made of. */
export interface Case {
  op: Operation;
  method: string;
  /** The path with its query string, as `app.request` takes it. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** The key sent (a name of `World.keys`), or null when the header is missing or garbage. */
  key: KeyName | null;
  /** How the case was made: `auth:missing`, `path.id:not-uuid`, `mut:drop@content.subject`… */
  tags: string[];
  /** The path parameter tuples used, so that a successful DELETE can drop them from the pools. */
  tuples: { collection: string; names: string[]; values: Record<string, string> }[];
}

/** The world a case is resolved against: it changes when the runner opens a fresh one. */
export interface Context {
  world: World;
}

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const weighted = <T>(...pairs: [number, T][]) =>
  fc.oneof(...pairs.map(([weight, v]) => w(weight, fc.constant(v))));

const AUTH = weighted<"right" | KeyName | "missing" | "garbage">(
  [64, "right"],
  [7, "instance"],
  [7, "operator"],
  [6, "other"],
  [3, "revoked"],
  [7, "missing"],
  [6, "garbage"],
);

/** Authorization values that are not one key, built around a real key where they say so. */
const GARBAGE_AUTH: ((key: string) => string)[] = [
  () => "Bearer",
  () => "Bearer ",
  () => "Basic dXNlcjpwYXNz",
  () => `Bearer sg_${"A".repeat(43)}`, // the shape of a key, but no key
  (k) => `bearer ${k}`,
  (k) => `Bearer   ${k}   `,
  (k) => `Bearer ${k} extra`,
  (k) => `Bearer ${k.slice(0, -1)}`,
  (k) => `Token ${k}`,
  (k) => `Bearer ${k},Bearer ${k}`,
  () => `Bearer ${"x".repeat(10_000)}`,
  () => "Bearer \u00e9\u00e9",
  () => "Bearer %00",
];

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];

const EXTRA_HEADERS: [string, string][] = [
  ["accept", "text/html"],
  ["accept", "application/xml"],
  ["accept-encoding", "gzip, br"],
  ["x-http-method-override", "DELETE"],
  ["x-forwarded-for", "127.0.0.1, ::1"],
  ["x-forwarded-host", "evil.example"],
  ["origin", "https://evil.example"],
  ["cookie", "session=abc"],
  ["expect", "100-continue"],
  ["content-encoding", "gzip"],
  ["content-language", "fr"],
  ["x-request-id", "x".repeat(500)],
  ["if-none-match", '"abc"'],
  ["range", "bytes=0-1"],
];

const UNKNOWN_QUERY: [string, string][] = [
  ["foo", "bar"],
  ["__proto__", "1"],
  ["constructor", "x"],
  ["limit[]", "1"],
  ["a[b]", "c"],
  ["", "x"],
  ["%00", "x"],
  ["cursor", ""],
];

const WRONG_TYPES = [
  "text/plain",
  "application/xml",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  "application/problem+json",
  "application/json-seq",
  "text/json",
  "*/*",
  "json",
  "",
  ";",
];

const CHARSETS = [
  "; charset=utf-8",
  "; charset=UTF-8",
  ";charset=utf-8",
  "; charset=latin1",
  '; charset="utf-8"',
  "; boundary=x",
  "; charset=utf-16",
  " ; x=y",
];

const INVALID_BY_TYPE: Record<string, string[]> = {
  integer: [
    "abc",
    "1.5",
    "1e3",
    "",
    "0x10",
    " 5",
    "5 ",
    "Infinity",
    "-0",
    "NaN",
    "99999999999999999999",
  ],
  number: ["abc", "", "Infinity", "1e999", "--1"],
  boolean: ["yes", "", "TRUE", "2"],
  string: ["", " "],
};

const NDJSON_LINES = [
  "",
  "   ",
  "not json",
  "{",
  "[]",
  "null",
  "{}",
  "1",
  '{"externalId":""}',
  '{"address":null}',
  "\u0000",
  "x".repeat(10_000),
  '{"a":' + '{"a":'.repeat(500) + "1" + "}".repeat(501),
];

const CSV_LINES = [
  "",
  ",",
  '"unterminated',
  '"a""b"@example.com,x',
  '"quoted@example.com","with, comma"',
  "a,b,c,d,e,f,g",
  "=cmd|' /C calc'!A0",
  "address",
  "\u0000@example.com",
  "x".repeat(20_000),
  "\ufeffbom@example.com",
  "caf\u00e9@example.com,\ud800",
];

/** What a parameter's schema says is valid, and what it says is not. */
function invalidFor(doc: OpenApiDocument, p: Parameter): string[] {
  const s = resolve(doc, p.schema ?? {});
  const types = Array.isArray(s.type) ? s.type : [s.type ?? "string"];
  const out = types.flatMap((t) => INVALID_BY_TYPE[t] ?? []);
  if (s.enum) {
    const first = String(s.enum[0]);
    out.push(first.toUpperCase(), `${first} `, "nope", s.enum.join(","));
  }
  if (typeof s.minimum === "number") out.push(String(s.minimum - 1));
  if (typeof s.maximum === "number") out.push(String(s.maximum + 1));
  if (typeof s.maxLength === "number") out.push("x".repeat(s.maxLength + 1));
  return out.length ? out : ["x"];
}

const isCursor = (name: string) => /cursor/iu.test(name);

/** A real cursor (from a list's `nextCursor`) with its JSON altered: a forged one that parses. */
function mutateCursor(real: string, n: number): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(real, "base64url").toString("utf8"));
  } catch {
    return real.slice(0, -1);
  }
  const mutated = mutate(value, [{
    kind: [
      "wrong-type",
      "drop",
      "boundary-number",
      "taint-string",
      "edge-date",
      "add-field",
    ][n % 6] as never,
    at: n >> 3,
    pick: n >> 5,
  }]).value;
  return Buffer.from(JSON.stringify(mutated) ?? "null").toString("base64url");
}

/** The schema of one NDJSON line: the item of the sibling JSON body's only array, or inferred. */
function lineSchema(doc: OpenApiDocument, op: Operation, example: unknown): Schema {
  for (const b of op.bodies) {
    if (!/json/u.test(b.mediaType) || /ndjson/u.test(b.mediaType)) continue;
    const s = resolve(doc, b.schema);
    const arrays = Object.values(s.properties ?? {}).map((p) => resolve(doc, p))
      .filter((p) => p.type === "array" && p.items);
    if (arrays.length === 1) return arrays[0]!.items!;
  }
  const first = typeof example === "string" ? example.split(/\r?\n/u).find(Boolean) : undefined;
  try {
    return inferSchema(JSON.parse(first ?? "{}"));
  } catch {
    return {};
  }
}

/** A schema from an example value: its keys with their types, the first one required. */
function inferSchema(value: unknown): Schema {
  if (Array.isArray(value)) return { type: "array", items: inferSchema(value[0]) };
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    return {
      type: "object",
      properties: Object.fromEntries(entries.map(([k, v]) => [k, inferSchema(v)])),
      required: entries.slice(0, 1).map(([k]) => k),
    };
  }
  return { type: value === null ? "null" : typeof value };
}

type BodyKind = "json" | "ndjson" | "csv" | "text";
/** A body as its schema makes it, mutated, replaced by a textual mutation, or left out. */
type BodyMode = "valid" | "mutated" | "raw" | "absent";
const kindOf = (mediaType: string): BodyKind =>
  /ndjson/iu.test(mediaType)
    ? "ndjson"
    : /json/iu.test(mediaType)
    ? "json"
    : /csv/iu.test(mediaType)
    ? "csv"
    : "text";

/** The body generator of one media type: a value, and how it is written out. */
function bodyArbitrary(
  doc: OpenApiDocument,
  op: Operation,
  body: Operation["bodies"][number],
  ctx: Context,
): fc.Arbitrary<{ value: unknown; kind: BodyKind }> {
  const hints = hintsFor(() => ctx.world.pools);
  const kind = kindOf(body.mediaType);
  const s = resolve(doc, body.schema);
  if (kind === "json" || (s.type !== "string" && kind !== "csv")) {
    return schemaArbitrary(doc, body.schema, hints).map((value) => ({
      value,
      kind: "json" as const,
    }));
  }
  if (kind === "ndjson") {
    const line = schemaArbitrary(doc, lineSchema(doc, op, body.example), hints);
    return fc.array(line, { minLength: 1, maxLength: 6 }).map((value) => ({ value, kind }));
  }
  if (kind === "csv") {
    const example = typeof body.example === "string" ? body.example.split(/\r?\n/u) : [];
    const header = (example[0] ?? "address").split(",");
    const cell = (name: string) =>
      hints.byName(
        name.trim(),
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...DIRTY_STRINGS)),
        (v) => typeof v === "string",
        { type: "string" },
      );
    const row = fc.tuple(...header.map((h) => cell(h)));
    return fc.record({ head: fc.boolean(), rows: fc.array(row, { minLength: 1, maxLength: 8 }) })
      .map(({ head, rows }) => ({ value: head ? [header, ...rows] : rows, kind }));
  }
  return fc.string({ maxLength: 200 }).map((value) => ({ value, kind }));
}

/** Writes a body value out in its media type; NDJSON and CSV get dirty lines mixed in. */
function writeBody(
  value: unknown,
  kind: BodyKind,
  splices: { marker: string; text: string }[],
  dirt: { lines: number[]; eol: number },
): { text: string; tags: string[] } {
  // CR alone (old Mac files) is rare and makes the whole text one line: one case in eight.
  const eol = ["\n", "\n", "\n", "\r\n", "\r\n", "\n\n", "\n", "\r"][dirt.eol % 8]!;
  if (kind === "json") return { text: serialize(value, splices), tags: [] };
  if (kind === "text") return { text: textOf(value ?? ""), tags: [] };
  const rows = Array.isArray(value) ? value : [value];
  const lines = rows.map((r) =>
    kind === "ndjson"
      ? serialize(r, splices) || "null"
      : (Array.isArray(r) ? r : [r]).map((c) => csvCell(c)).join(",")
  );
  const tags: string[] = [];
  const extras = kind === "ndjson" ? NDJSON_LINES : CSV_LINES;
  for (const d of dirt.lines) {
    const line = extras[d % extras.length]!;
    lines.splice(d % (lines.length + 1), 0, line);
    tags.push(`dirty-line:${kind}:${JSON.stringify(line.slice(0, 24))}`);
  }
  if (eol !== "\n") tags.push(`eol:${JSON.stringify(eol)}`);
  return { text: lines.join(eol) + (dirt.eol % 3 === 0 ? eol : ""), tags };
}

function csvCell(value: unknown): string {
  const s = typeof value === "string" ? value : JSON.stringify(value) ?? "";
  return /[",\r\n]/u.test(s) ? `"${s.replace(/"/gu, '""')}"` : s;
}

/** A header the fetch API refuses (NUL, CR/LF, past Latin-1) cannot be sent: dropped, tagged. */
function sendable(headers: Record<string, string>, tags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    try {
      new Headers([[k, v]]);
      out[k] = v;
    } catch {
      tags.push(`header-unsendable:${k}`);
    }
  }
  return out;
}

/**
 * The case generator of one operation: fast-check arbitraries for each part of the request,
 * resolved against the current world's keys and pools when a case is drawn.
 */
export function caseArbitrary(op: Operation, ctx: Context): fc.Arbitrary<Case> {
  const doc = ctx.world.doc;
  const hints = hintsFor(() => ctx.world.pools);
  const groups = paramGroups(op.template);

  const pathChoice = (p: Parameter) =>
    fc.record({
      mode: weighted<
        | "fixture"
        | "schema"
        | "hostile-raw"
        | "hostile-encoded"
        | "not-uuid"
        | "other-pool"
        | "random"
      >(
        [70, "fixture"],
        [8, "schema"],
        [8, "hostile-raw"],
        [3, "hostile-encoded"],
        [5, "not-uuid"],
        [3, "other-pool"],
        [3, "random"],
      ),
      schema: schemaArbitrary(doc, p.schema ?? { type: "string" }, hints, p.name),
      random: fc.string({ unit: "grapheme", maxLength: 40 }),
      n: fc.nat(),
    });
  const pathChoices = fc.tuple(...op.pathParams.map(pathChoice));

  const queryChoice = (p: Parameter) => {
    const cursor = isCursor(p.name);
    return fc.record({
      mode: weighted<
        | "absent"
        | "valid"
        | "invalid"
        | "hostile"
        | "repeated"
        | "forged"
        | "forged-random"
        | "real"
        | "real-mutated"
      >(
        [p.required ? 6 : 40, "absent"],
        [cursor ? 10 : 38, "valid"],
        [12, "invalid"],
        [5, "hostile"],
        [5, "repeated"],
        [cursor ? 12 : 0, "forged"],
        [cursor ? 10 : 0, "real"],
        [cursor ? 8 : 0, "real-mutated"],
        [cursor ? 6 : 0, "forged-random"],
      ),
      valid: schemaArbitrary(doc, p.schema ?? { type: "string" }, hints, p.name),
      // Any JSON at all, base64url-encoded: what a cursor decoder must refuse politely.
      json: cursor ? fc.jsonValue({ maxDepth: 3 }) : fc.constant(null),
      n: fc.nat(),
    });
  };
  const queryChoices = fc.tuple(...op.queryParams.map(queryChoice));
  const unknownQuery = fc.oneof(
    w(85, fc.constant([] as [string, string][])),
    w(15, fc.array(fc.constantFrom(...UNKNOWN_QUERY), { minLength: 1, maxLength: 3 })),
  );

  const headerChoices = fc.tuple(...op.headerParams.map((p) =>
    fc.record({
      mode: weighted<"absent" | "valid" | "pool" | "hostile">(
        [p.required ? 5 : 45, "absent"],
        [30, "valid"],
        [12, "pool"],
        [13, "hostile"],
      ),
      valid: schemaArbitrary(doc, p.schema ?? { type: "string" }, hints, p.name).map(String),
      n: fc.nat(),
    })
  ));

  const bodies = op.bodies.map((b) => bodyArbitrary(doc, op, b, ctx));
  const hasBody = op.bodies.length > 0;
  const bodyChoice = fc.record({
    // The body is drawn for one media type, and sent as that type unless the content type lies.
    generated: hasBody
      ? fc.oneof(...bodies.map((arb, media) => arb.map((g) => ({ ...g, media }))))
      : fc.constant({ value: undefined, kind: "json" as const, media: 0 }),
    mode: hasBody
      ? weighted<BodyMode>([38, "valid"], [44, "mutated"], [14, "raw"], [4, "absent"])
      : weighted<BodyMode>([90, "absent"], [10, "raw"]),
    mutations: fc.array(mutationChoice, { minLength: 1, maxLength: 3 }),
    raw: fc.constantFrom(...RAW_MUTATIONS),
    rawPick: fc.nat(),
    dirt: fc.record({
      lines: fc.oneof(
        w(3, fc.constant([] as number[])),
        w(1, fc.array(fc.nat(), { maxLength: 3 })),
      ),
      eol: fc.nat(),
    }),
    contentType: weighted<"right" | "charset" | "upper" | "wrong" | "missing" | "other-media">(
      [72, "right"],
      [8, "charset"],
      [3, "upper"],
      [8, "wrong"],
      [5, "missing"],
      [4, "other-media"],
    ),
    ctPick: fc.nat(),
  });

  const randomHeader = fc.tuple(
    fc.stringMatching(/^x-[a-z0-9-]{1,24}$/u),
    fc.string({ unit: "binary-ascii", maxLength: 60 }),
  );
  const extraHeaders = fc.oneof(
    w(85, fc.constant([] as [string, string][])),
    w(10, fc.array(fc.constantFrom(...EXTRA_HEADERS), { minLength: 1, maxLength: 2 })),
    w(5, fc.array(randomHeader, { minLength: 1, maxLength: 3 })),
  );

  return fc.record({
    method: fc.oneof(w(97, fc.constant(op.method)), w(3, fc.constantFrom(...OTHER_METHODS))),
    auth: AUTH,
    authPick: fc.nat(),
    path: pathChoices,
    pathShape: weighted<"plain" | "trailing-slash" | "double-slash" | "upper">(
      [95, "plain"],
      [2, "trailing-slash"],
      [2, "double-slash"],
      [1, "upper"],
    ),
    // Half the cases send a clean query string: each parameter absent or valid, so that a list
    // route's filters and paging are reached, not only its validation.
    cleanQuery: fc.boolean(),
    query: queryChoices,
    unknownQuery,
    headerParams: headerChoices,
    body: bodyChoice,
    extraHeaders,
    tuplePick: fc.nat(),
  }).map((raw): Case => {
    const world = ctx.world;
    const tags: string[] = [];
    const headers: Record<string, string> = {};

    // The key: the one the route wants ("right"), another principal, or none.
    const right: KeyName = op.operatorOnly ? "operator" : "instance";
    let key: KeyName | null = null;
    if (!op.secured && raw.auth === "right") tags.push("auth:none-needed");
    else if (raw.auth === "missing") tags.push("auth:missing");
    else if (raw.auth === "garbage") {
      const make = GARBAGE_AUTH[raw.authPick % GARBAGE_AUTH.length]!;
      headers.authorization = make(world.keys.instance);
      tags.push(`auth:garbage(${raw.authPick % GARBAGE_AUTH.length})`);
    } else {
      key = raw.auth === "right" ? right : raw.auth;
      headers.authorization = `Bearer ${world.keys[key]}`;
      tags.push(`auth:${key}`);
    }

    // Path parameters, a group at a time so that a channel goes with its address.
    let path = op.template;
    const tuples: Case["tuples"] = [];
    for (const g of groups) {
      const pool = world.pools.tuples(g.collection, g.names);
      const own = pool.filter((t) => t.owner === (key ?? right) || op.operatorOnly);
      const mine = own.length && raw.tuplePick % 5 !== 0 ? own : pool;
      // Half the time one of the newest: what was just made is likelier still usable (a draft
      // delivery, not one a previous case cancelled).
      const choose = raw.tuplePick % 2 ? mine.slice(-8) : mine;
      const tuple = choose.length ? choose[raw.tuplePick % choose.length] : undefined;
      let usedTuple = true;
      for (const name of g.names) {
        const i = op.pathParams.findIndex((p) => p.name === name);
        const c = raw.path[i];
        let value: string;
        if (!c) continue;
        const mode = c.mode === "fixture" && !tuple ? "schema" : c.mode;
        switch (mode) {
          case "fixture":
            value = encodeLoose(tuple!.values[name]!);
            break;
          case "schema":
            value = encodeLoose(textOf(c.schema));
            break;
          case "hostile-raw":
            value = HOSTILE_SEGMENTS[c.n % HOSTILE_SEGMENTS.length]!;
            break;
          case "hostile-encoded":
            value = encodeLoose(DIRTY_STRINGS[c.n % DIRTY_STRINGS.length]!);
            break;
          case "not-uuid":
            value = NOT_UUIDS[c.n % NOT_UUIDS.length]!;
            break;
          case "other-pool": {
            const all = world.pools.allValues();
            value = encodeLoose(all.length ? all[c.n % all.length]! : "x");
            break;
          }
          default:
            value = encodeLoose(c.random);
        }
        if (mode !== "fixture") usedTuple = false;
        tags.push(`path.${name}:${mode}`);
        for (const f of stringFeatures(decodeSafe(value), true)) tags.push(f, `${f}@path.${name}`);
        if (value.length === 36 && !/^[0-9a-f-]{36}$/iu.test(value)) tags.push("36-char-non-uuid");
        path = path.replace(`{${name}}`, value);
      }
      if (tuple && usedTuple) {
        tuples.push({ collection: g.collection, names: g.names, values: tuple.values });
      }
    }
    if (raw.pathShape === "trailing-slash") path += "/";
    else if (raw.pathShape === "double-slash") path = path.replace(/\//gu, "//");
    else if (raw.pathShape === "upper") path = path.toUpperCase();
    if (raw.pathShape !== "plain") tags.push(`path-shape:${raw.pathShape}`);

    // The query string: each parameter absent, valid, invalid, hostile or twice.
    const query: string[] = [];
    op.queryParams.forEach((p, i) => {
      const c = { ...raw.query[i]! };
      if (raw.cleanQuery && !["absent", "valid", "real"].includes(c.mode)) {
        c.mode = p.required || c.n % 2 ? "valid" : "absent";
      }
      const name = encodeLoose(p.name);
      const enc = (v: unknown) => encodeLoose(typeof v === "string" ? v : JSON.stringify(v) ?? "");
      const invalid = invalidFor(doc, p);
      const real = world.pools.byName("nextCursor").filter((v): v is string =>
        typeof v === "string"
      );
      switch (c.mode) {
        case "absent":
          return;
        case "valid":
          query.push(`${name}=${enc(c.valid)}`);
          for (const f of stringFeatures(String(c.valid))) tags.push(f, `${f}@query.${p.name}`);
          break;
        case "invalid":
          query.push(`${name}=${enc(invalid[c.n % invalid.length])}`);
          break;
        case "hostile": {
          const v = c.n % 2
            ? HOSTILE_SEGMENTS[c.n % HOSTILE_SEGMENTS.length]!
            : enc(DIRTY_STRINGS[c.n % DIRTY_STRINGS.length]);
          query.push(`${name}=${v}`);
          for (const f of stringFeatures(decodeSafe(v), true)) tags.push(f, `${f}@query.${p.name}`);
          break;
        }
        case "repeated":
          query.push(`${name}=${enc(c.valid)}`, `${name}=${enc(invalid[c.n % invalid.length])}`);
          break;
        case "forged":
          query.push(`${name}=${enc(FORGED_CURSORS[c.n % FORGED_CURSORS.length])}`);
          tags.push(`forged-cursor(${c.n % FORGED_CURSORS.length})`);
          break;
        case "forged-random":
          query.push(
            `${name}=${Buffer.from(JSON.stringify(c.json) ?? "null").toString("base64url")}`,
          );
          break;
        case "real":
          query.push(`${name}=${enc(real.length ? real[c.n % real.length] : c.valid)}`);
          break;
        case "real-mutated":
          if (real.length) {
            query.push(`${name}=${enc(mutateCursor(real[c.n % real.length]!, c.n))}`);
          } else query.push(`${name}=${enc(FORGED_CURSORS[c.n % FORGED_CURSORS.length])}`);
          break;
      }
      tags.push(`query.${p.name}:${c.mode}`);
      if (isCursor(p.name)) {
        tags.push(
          `cursor-shape:${cursorShape(decodeSafe(query.at(-1)!.split("=").slice(1).join("=")))}`,
        );
      }
    });
    const unknown = raw.cleanQuery ? [] : raw.unknownQuery;
    for (const [k, v] of unknown) query.push(`${encodeLoose(k)}=${v}`);
    if (unknown.length) tags.push("query:unknown");
    if (query.length) path += `?${query.join("&")}`;

    // Header parameters (an Idempotency-Key): valid, one a route accepted before, or hostile.
    op.headerParams.forEach((p, i) => {
      const c = raw.headerParams[i]!;
      const seen = world.pools.headers.get(p.name) ?? [];
      if (c.mode === "absent") return;
      if (c.mode === "valid") headers[p.name] = c.valid;
      else if (c.mode === "pool") {
        headers[p.name] = seen.length ? seen[c.n % seen.length]! : c.valid;
      } else headers[p.name] = HOSTILE_HEADER_VALUES[c.n % HOSTILE_HEADER_VALUES.length]!;
      tags.push(`header.${p.name}:${c.mode}`);
    });
    for (const [k, v] of raw.extraHeaders) headers[k] = v;
    if (raw.extraHeaders.length) tags.push("header:extra");

    // The body: valid for its schema, mutated, or replaced by a textual mutation.
    const b = raw.body;
    const media = op.bodies[b.generated.media];
    let body: string | Uint8Array | undefined;
    if (b.mode !== "absent") {
      const generated = b.generated;
      let value = generated.value;
      let splices: { marker: string; text: string }[] = [];
      if (b.mode === "mutated") {
        const m = mutate(value, b.mutations);
        value = m.value;
        splices = m.splices;
        tags.push(...m.tags);
      }
      tags.push(...features(value));
      const written = writeBody(value, generated.kind, splices, b.dirt);
      tags.push(...written.tags);
      body = written.text;
      if (b.mode === "raw") {
        const r = mutateText(written.text, b.raw, b.rawPick);
        body = r.body;
        tags.push(r.tag);
      }
      tags.push(`body:${b.mode}`, `body-kind:${generated.kind}`);
    } else tags.push("body:absent");

    // The content type: the body's own, with parameters, of the other media type, wrong, none.
    const own = media?.mediaType ?? "application/json";
    const others = op.bodies.map((x) => x.mediaType).filter((m) => m !== own);
    let contentType: string | undefined;
    switch (b.contentType) {
      case "right":
        contentType = body === undefined && !media ? undefined : own;
        break;
      case "charset":
        contentType = own + CHARSETS[b.ctPick % CHARSETS.length];
        break;
      case "upper":
        contentType = own.toUpperCase();
        break;
      case "wrong":
        contentType = WRONG_TYPES[b.ctPick % WRONG_TYPES.length];
        break;
      case "missing":
        contentType = undefined;
        break;
      case "other-media":
        contentType = others.length ? others[b.ctPick % others.length] : "text/plain";
        break;
    }
    if (contentType !== undefined) headers["content-type"] = contentType;
    tags.push(`content-type:${b.contentType}`);
    const essence = contentType?.split(";")[0]?.trim().toLowerCase();
    tags.push(op.bodies.some((m) => m.mediaType === essence) ? "ct:declared" : "ct:undeclared");
    if (b.contentType !== "right") tags.push(`content-type=${JSON.stringify(contentType ?? null)}`);

    const method = raw.method;
    if (method !== op.method) tags.push(`method:${method}`);
    // The fetch API refuses a body on GET and HEAD: such a request cannot be sent at all.
    if (method === "GET" || method === "HEAD") body = undefined;
    return { op, method, path, headers: sendable(headers, tags), body, key, tags, tuples };
  });
}

/** What a cursor holds, as a tag: `{a,c}`, `number`, `array`, `not-json`. */
function cursorShape(cursor: string): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return "not-json";
  }
  if (Array.isArray(value)) return "array";
  if (value && typeof value === "object") return `{${Object.keys(value).sort().join(",")}}`;
  return value === null ? "null" : typeof value;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
