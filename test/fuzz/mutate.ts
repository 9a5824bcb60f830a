import fc from "fast-check";
import {
  BOUNDARY_NUMBERS,
  deepArray,
  deepObject,
  DIRTY_CHARS,
  DIRTY_STRINGS,
  EDGE_DATE_TIMES,
  taint,
  textOf,
} from "./hostile.ts";

/**
 * Mutations of a generated body: structural ones on the JSON value (a field dropped, renamed,
 * of the wrong type, a boundary number, a dirty string, deep nesting, a huge array) and textual
 * ones on its serialized form (empty, not JSON, truncated, trailing garbage, bad UTF-8). Each
 * returns tags naming what it did, so that a failure can be told by its input's shape.
 */

export const MUTATIONS = [
  "drop",
  "rename",
  "add-field",
  "wrong-type",
  "boundary-number",
  "dirty-string",
  "taint-string",
  "long-string",
  "null",
  "edge-date",
  "enum-case",
  "deep-nesting",
  "huge-array",
] as const;
export type Mutation = typeof MUTATIONS[number];

export interface MutationChoice {
  kind: Mutation;
  /** Which node of the value (modulo their count). */
  at: number;
  /** Which variant of the mutation (modulo their count). */
  pick: number;
}

export const mutationChoice: fc.Arbitrary<MutationChoice> = fc.record({
  kind: fc.constantFrom(...MUTATIONS),
  at: fc.nat(),
  pick: fc.nat(),
});

type Path = (string | number)[];

/** A node of a JSON value and how to replace it. */
interface Node {
  path: Path;
  value: unknown;
  set(v: unknown): void;
  remove(): void;
  rename?(to: string): void;
}

/** The text of a path with indices folded: `recipients.[].address`. */
export const pathPattern = (path: Path) =>
  path.map((p) => (typeof p === "number" ? "[]" : p)).join(".") || "(root)";

function nodesOf(root: { v: unknown }, limit = 500): Node[] {
  const nodes: Node[] = [];
  const walk = (value: unknown, path: Path, set: (v: unknown) => void, remove: () => void) => {
    if (nodes.length >= limit) return;
    nodes.push({ path, value, set, remove });
    if (Array.isArray(value)) {
      value.forEach((item, i) =>
        walk(item, [...path, i], (v) => (value[i] = v), () => value.splice(i, 1))
      );
    } else if (value && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const node = nodes.length;
        walk(obj[key], [...path, key], (v) => (obj[key] = v), () => delete obj[key]);
        const n = nodes[node];
        if (n) {
          n.rename = (to) => {
            obj[to] = obj[key];
            delete obj[key];
          };
        }
      }
    }
  };
  walk(root.v, [], (v) => (root.v = v), () => (root.v = undefined));
  return nodes;
}

const ODD_KEYS = ["extra", "__proto__", "constructor", "toString", "$where", "0", "", "id", " "];
const WRONG_TYPES: unknown[] = [
  "1",
  "",
  1,
  0,
  true,
  false,
  null,
  [],
  {},
  [null],
  { "": "" },
];

/** A placeholder the serializer replaces by a text too big or too deep to build as a value. */
export interface Splice {
  marker: string;
  text: string;
}

/**
 * Applies the mutations to a deep copy of `value`. Deep nesting and huge arrays come back as
 * splices: markers in the value that `serialize` swaps for their text.
 */
export function mutate(
  value: unknown,
  choices: MutationChoice[],
): { value: unknown; tags: string[]; splices: Splice[] } {
  const root = { v: structuredClone(value) as unknown };
  const tags: string[] = [];
  const splices: Splice[] = [];
  for (const choice of choices) {
    const nodes = nodesOf(root);
    const node = nodes[choice.at % nodes.length]!;
    const where = pathPattern(node.path);
    const tag = (detail = "") => {
      tags.push(`mut:${choice.kind}${detail}`, `mut:${choice.kind}${detail}@${where}`);
    };
    const pick = <T>(list: readonly T[]) => list[choice.pick % list.length]!;
    // A copy: the `[]` and `{}` of the list would otherwise be shared, mutated, even nested in
    // themselves by a later mutation of the same case.
    const wrong = (list: readonly unknown[] = WRONG_TYPES) => structuredClone(pick(list));
    switch (choice.kind) {
      case "drop":
        if (node.path.length === 0) {
          root.v = undefined;
          tag();
        } else {
          node.remove();
          tag();
        }
        break;
      case "rename":
        if (node.rename) {
          const key = String(node.path.at(-1));
          node.rename(
            pick([`${key}_`, key.toUpperCase(), key.slice(1), `${key} `, `${key}\u0000`]),
          );
          tag();
        } else {
          node.set(wrong());
          tag("(as wrong-type)");
        }
        break;
      case "add-field": {
        const target = node.value && typeof node.value === "object" && !Array.isArray(node.value)
          ? node.value as Record<string, unknown>
          : null;
        if (target) {
          const key = pick(ODD_KEYS);
          Object.defineProperty(target, key, {
            value: wrong(),
            enumerable: true,
            writable: true,
            configurable: true,
          });
          tag(`(${JSON.stringify(key)})`);
        } else if (Array.isArray(node.value)) {
          node.value.push(wrong());
          tag("(array item)");
        } else {
          node.set({ [pick(ODD_KEYS)]: node.value });
          tag("(wrap)");
        }
        break;
      }
      case "wrong-type": {
        const options = WRONG_TYPES.filter((w) => typeof w !== typeof node.value);
        node.set(wrong(options));
        tag();
        break;
      }
      case "boundary-number": {
        const n = pick(BOUNDARY_NUMBERS);
        node.set(n);
        tag(`(${Object.is(n, -0) ? "-0" : n})`);
        break;
      }
      case "dirty-string": {
        node.set(pick(DIRTY_STRINGS));
        tag();
        break;
      }
      case "taint-string": {
        // Keeps the value recognisable (a valid address, an enum) with one bad character in it.
        const c = pick(DIRTY_CHARS);
        node.set(
          taint(textOf(node.value), c, choice.pick),
        );
        tag(`(${JSON.stringify(c)})`);
        break;
      }
      case "long-string":
        node.set(
          pick(["x".repeat(10_000), "é".repeat(5_000), "😀".repeat(3_000), "a".repeat(2049)]),
        );
        tag();
        break;
      case "null":
        node.set(null);
        tag();
        break;
      case "edge-date":
        node.set(pick(EDGE_DATE_TIMES));
        tag();
        break;
      case "enum-case":
        if (typeof node.value === "string") {
          node.set(
            pick([node.value.toUpperCase(), ` ${node.value}`, `${node.value}\n`, node.value + "s"]),
          );
        } else node.set(textOf(node.value));
        tag();
        break;
      case "deep-nesting": {
        const marker = `@@fuzz-splice-${splices.length}@@`;
        const depth = pick([64, 1_000, 5_000]);
        splices.push({ marker, text: choice.pick % 2 ? deepArray(depth) : deepObject(depth) });
        node.set(marker);
        tag(`(${depth})`);
        break;
      }
      case "huge-array": {
        const marker = `@@fuzz-splice-${splices.length}@@`;
        const item = Array.isArray(node.value) && node.value.length ? node.value[0] : node.value;
        const n = pick([1_001, 10_001, 100_001]);
        // The count is the point, not the bytes: a big item becomes a small one (≤ ~3 MB in all).
        const whole = JSON.stringify(item ?? null) ?? "null";
        const one = whole.length * n > 3_000_000 ? "0" : whole;
        splices.push({ marker, text: `[${Array(n).fill(one).join(",")}]` });
        node.set(marker);
        tag(`(${n})`);
        break;
      }
    }
  }
  return { value: root.v, tags, splices };
}

/** JSON text of a (possibly mutated) value, with its splices in place. */
export function serialize(value: unknown, splices: Splice[] = []): string {
  let text = value === undefined ? "" : JSON.stringify(value);
  for (const s of splices) text = text.replace(JSON.stringify(s.marker), s.text);
  return text;
}

export const RAW_MUTATIONS = [
  "empty",
  "whitespace",
  "literal",
  "not-json",
  "truncated",
  "trailing-garbage",
  "bom",
  "invalid-utf8",
  "deep-array-5000",
  "deep-object-5000",
  "deep-array-200000",
  "json5",
  "big-number-literal",
  "raw-control-char",
  "duplicate-key",
  "padding",
] as const;
export type RawMutation = typeof RAW_MUTATIONS[number];

const encoder = new TextEncoder();

/** A textual mutation of a body: what a broken client or a proxy sends instead of `text`. */
export function mutateText(
  text: string,
  kind: RawMutation,
  pick: number,
): { body: string | Uint8Array; tag: string } {
  const choose = <T>(list: readonly T[]) => list[pick % list.length]!;
  switch (kind) {
    case "empty":
      return { body: "", tag: "raw:empty" };
    case "whitespace":
      return { body: choose([" ", "\n", "\r\n\r\n", "\t "]), tag: "raw:whitespace" };
    case "literal": {
      const body = choose(["null", "[]", "{}", "0", '"x"', "true", "-1", "1e999", "[{}]"]);
      return { body, tag: `raw:literal(${body})` };
    }
    case "not-json":
      return {
        body: choose(["hello", "<xml/>", "a=b&c=d", "{", "}", "{'a':1}", "\u0000", "undefined"]),
        tag: "raw:not-json",
      };
    case "truncated":
      return {
        body: text.slice(0, Math.max(1, pick % Math.max(1, text.length))),
        tag: "raw:truncated",
      };
    case "trailing-garbage":
      return {
        body: text + choose(["x", "}", "]", "\n{}", ",", "\u0000", " //"]),
        tag: "raw:trailing-garbage",
      };
    case "bom":
      return { body: `\ufeff${text}`, tag: "raw:bom" };
    case "invalid-utf8": {
      const bytes = encoder.encode(text);
      const bad = choose([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xfe, 0xff]]);
      const at = bytes.length ? pick % bytes.length : 0;
      const out = new Uint8Array(bytes.length + bad.length);
      out.set(bytes.subarray(0, at));
      out.set(bad, at);
      out.set(bytes.subarray(at), at + bad.length);
      return { body: out, tag: "raw:invalid-utf8" };
    }
    case "deep-array-5000":
      return { body: deepArray(5_000), tag: "raw:deep-array(5000)" };
    case "deep-object-5000":
      return { body: deepObject(5_000), tag: "raw:deep-object(5000)" };
    case "deep-array-200000":
      return { body: deepArray(200_000), tag: "raw:deep-array(200000)" };
    case "json5":
      return {
        body: choose([`/* c */${text}`, text.replace(/"/gu, "'"), `${text.slice(0, -1)},}`, "NaN"]),
        tag: "raw:json5",
      };
    case "big-number-literal":
      return {
        body: text.replace(
          /(?<=:)\s*-?\d+(\.\d+)?(?=[,}\]])/u,
          "123456789012345678901234567890e400",
        ),
        tag: "raw:big-number-literal",
      };
    case "raw-control-char":
      // A control character inside a JSON string is not JSON: a parser must refuse it.
      return { body: text.replace(/"([^"]*)"/u, '"$1\u0001"'), tag: "raw:raw-control-char" };
    case "duplicate-key": {
      const m = /^\{"([^"]+)":/u.exec(text);
      if (!m) return { body: text, tag: "raw:duplicate-key(none)" };
      const v = JSON.stringify(choose(WRONG_TYPES));
      return { body: `{"${m[1]}":${v},${text.slice(1)}`, tag: "raw:duplicate-key" };
    }
    case "padding":
      return { body: " ".repeat(choose([1, 1_000, 100_000])) + text, tag: "raw:padding" };
  }
}

/**
 * Tags for what is notable in a value, wherever it came from (the valid generator also makes NUL
 * bytes and 2^31): `nul`, `nul@content.subject`, `int>=2^31@maxTargetSize`.
 */
export function features(value: unknown, prefix = "body", limit = 2_000): string[] {
  const out = new Set<string>();
  let seen = 0;
  const add = (f: string, path: Path) => {
    out.add(f);
    out.add(`${f}@${prefix}${path.length ? "." : ""}${pathPattern(path)}`);
  };
  const walk = (v: unknown, path: Path, depth: number) => {
    if (++seen > limit || depth > 50) return;
    if (typeof v === "string") { for (const f of stringFeatures(v)) add(f, path); }
    else if (typeof v === "number") { for (const f of numberFeatures(v)) add(f, path); }
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], depth + 1));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        for (const f of stringFeatures(k)) add(`key-${f}`, path);
        walk(x, [...path, k], depth + 1);
      }
    }
  };
  walk(value, [], 0);
  return [...out];
}

/**
 * What is notable in one string. In a URL (`encoded`), percent-encoded forms left after decoding
 * count too: they reach the gateway's own decoder.
 */
export function stringFeatures(s: string, encoded = false): string[] {
  const out: string[] = [];
  if (s.includes("\u0000") || (encoded && /%00/u.test(s))) out.push("nul");
  if (/\p{Cs}/u.test(s) || (encoded && /%ED%[AB][0-9A-F]/iu.test(s))) out.push("lone-surrogate");
  if (/[\r\n]/u.test(s) || (encoded && /%0[AD]/iu.test(s))) out.push("cr-lf");
  // deno-lint-ignore no-control-regex -- control characters are what this looks for
  if (/[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/u.test(s)) out.push("control-char");
  if (/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(s)) out.push("bidi");
  if (encoded && /%(?![0-9A-F]{2})/iu.test(s)) out.push("bad-percent");
  if (/^0000-/u.test(s)) out.push("year-0000");
  if (s.length > 1000) out.push("long>1000");
  if (s.length === 0) out.push("empty");
  return out;
}

function numberFeatures(n: number): string[] {
  const out: string[] = [];
  if (!Number.isInteger(n)) out.push("fraction");
  if (n >= 2 ** 31) out.push("int>=2^31");
  if (n < -(2 ** 31)) out.push("int<-2^31");
  if (n < 0) out.push("negative");
  if (Math.abs(n) > 2 ** 53) out.push("unsafe-int");
  return out;
}
