import { Buffer } from "node:buffer";
import fc from "fast-check";

/**
 * Hostile values the fuzzer mixes into every part of a request. Each list is a set of things a
 * careless client (or an attacker) really sends, and each has broken some gateway before: NUL
 * bytes PostgreSQL refuses in text, lone surrogates that no UTF-8 encoder can write, header
 * injection through CR/LF, numbers past a 32-bit column.
 */

/** Characters that break text handling somewhere between JSON, JavaScript and PostgreSQL. */
export const DIRTY_CHARS = [
  "\u0000", // PostgreSQL text cannot hold NUL
  "\ud800", // a lone high surrogate: not encodable as UTF-8
  "\udfff", // a lone low surrogate
  "\r",
  "\n",
  "\r\n",
  "\t",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085", // NEL, a line break to some parsers
  "\u2028", // line separator, once invalid in JavaScript string literals
  "\u200b", // zero width space
  "\u200e", // left-to-right mark
  "\u202e", // right-to-left override
  "\ufeff", // byte order mark
  "\ufffd",
  "\uffff",
  "😀",
  "👨‍👩‍👧",
  "é",
  "e\u0301", // combining accent
  "ß",
  "İ", // lower-cases to two code points
  "'",
  '"',
  "\\",
  "%",
  "<",
  "&",
  "$",
  "{{",
  "}}",
];

/** Whole hostile strings, as field values, query values or CSV cells. */
export const DIRTY_STRINGS = [
  "",
  " ",
  "   ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "a\udfffb",
  "\ud83d", // the first half of an emoji
  "x@example.com\r\nBcc: victim@example.com",
  "Subject\r\n\r\nbody",
  "\r\n",
  "\u202eevil\u202c",
  "😀".repeat(50),
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "NaN",
  "[object Object]",
  "__proto__",
  "constructor",
  "' or '1'='1",
  "1; drop table deliveries; --",
  "$1",
  "{{firstName}}",
  "{{",
  "<script>alert(1)</script>",
  "=cmd|' /C calc'!A0",
  "../../etc/passwd",
  "%00",
  "%ED%A0%80",
  "\\u0000",
  "a".repeat(201),
  "a".repeat(1001),
  "x".repeat(10_000),
];

/** 36-character strings that are not UUIDs, and near-UUIDs (a column of type uuid chokes). */
export const NOT_UUIDS = [
  "x".repeat(36),
  "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
  "00000000-0000-0000-0000-00000000000g",
  "123456789012345678901234567890123456",
  "------------------------------------",
  "{00000000-0000-0000-0000-000000000000}",
  "00000000000000000000000000000000",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "00000000-0000-0000-0000-0000000000000",
];

/** Path segments, inserted as they are (already percent-encoded where they say so). */
export const HOSTILE_SEGMENTS = [
  "%00",
  "a%00b",
  "..",
  "%2e%2e",
  "%2F",
  "a%2Fb",
  "%",
  "%zz",
  "%E0%A4%A",
  "%ED%A0%80", // an encoded lone surrogate: decodeURIComponent throws on it
  "%ED%BF%BF",
  "%C0%AF", // an overlong "/"
  "%FF",
  "%F0%9F%98%80",
  "%20",
  "%0D%0A",
  "%E2%80%AE",
  "é",
  "😀",
  "0",
  "-1",
  "1.5",
  "1e3",
  "2147483648",
  "9223372036854775808",
  "99999999999999999999999999",
  "NaN",
  "Infinity",
  "0x10",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "op-",
  `op-${"a".repeat(98)}`,
  "*",
  "'",
  "%27%20or%201%3D1--",
  "a".repeat(2049),
  "a".repeat(10_000),
];

/** Numbers at the edges of what JSON, JavaScript and a PostgreSQL column hold. */
export const BOUNDARY_NUMBERS = [
  0,
  -0,
  -1,
  0.5,
  -0.5,
  1,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53 + 2,
  1e15,
  1e308,
  -1e308,
  5e-324,
  1.0000000000000002,
];

/** date-time strings: valid to zod's regex, yet not all of them to a Date or a timestamptz. */
export const EDGE_DATE_TIMES = [
  "0000-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "1970-01-01T00:00:00Z",
  "2038-01-19T03:14:08Z",
  "9999-12-31T23:59:59.999Z",
  "2024-02-30T00:00:00Z",
  "2023-02-29T12:00:00Z",
  "2024-13-01T00:00:00Z",
  "2024-01-01T24:00:00Z",
  "2024-01-01T00:00:00+14:00",
  "2024-01-01T00:00:00-12:00",
  "2024-01-01T00:00:00+23:59",
  "2024-01-01T00:00:00.123456789Z",
  "2024-01-01T00:00:00",
  "2024-01-01",
  "2024-01-01 00:00:00Z",
  "+275760-09-13T00:00:00Z",
];

/** base64url of JSON a cursor never holds, and strings that are not base64url at all. */
export const FORGED_CURSORS = [
  ...[
    { t: "x", id: "y" },
    { t: "2024-01-01T00:00:00.000Z", id: "not-a-uuid" },
    { t: "0000-01-01T00:00:00Z", id: "00000000-0000-0000-0000-000000000000" },
    { t: 1e300, id: 1 },
    { t: null, id: null },
    { c: "email", a: 1 },
    { c: "email", a: "\u0000" },
    { c: "\ud800", a: "x" },
    { a: { b: { c: { d: 1 } } } },
    {},
    1e300,
    -1,
    0,
    2 ** 31,
    1.5,
    [],
    [1, 2, 3],
    [{ t: "x" }],
    null,
    true,
    "str",
    "\u0000",
  ].map((v) => Buffer.from(JSON.stringify(v)).toString("base64url")),
  "!!!",
  "%00",
  "a",
  "====",
  "e30", // "{}" without padding
  "e30=",
  "a".repeat(201),
  Buffer.from("not json").toString("base64url"),
  Buffer.from([0xff, 0xfe, 0x00]).toString("base64url"),
];

/** Values for a header, cheap and each a known trap. Non-Latin-1 ones are dropped as unsendable. */
export const HOSTILE_HEADER_VALUES = [
  "",
  " ",
  "x".repeat(201),
  "x".repeat(8_000),
  "null",
  "\u00e9\u00ff", // Latin-1, sendable as obs-text
  "a,b",
  "a;b=c",
  "😀",
];

/** Nested arrays `depth` deep, as text: JSON.stringify would recurse that deep. */
export function deepArray(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** Nested objects `depth` deep, as text. */
export function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** A string of hostile characters mixed with plain ones, up to `maxLength` code units. */
export function dirtyString(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...DIRTY_STRINGS) },
    {
      weight: 3,
      arbitrary: fc.string({
        unit: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...DIRTY_CHARS) },
          {
            weight: 2,
            arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
          },
          { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
        ),
        maxLength,
      }),
    },
  );
}

/** Inserts one hostile character into a string (a valid email with a NUL in it, and so on). */
export function taint(value: string, char: string, at: number): string {
  const i = value.length === 0 ? 0 : at % (value.length + 1);
  return value.slice(0, i) + char + value.slice(i);
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is written as the three
 * bytes a sloppy UTF-8 encoder makes of it (WTF-8, `%ED%A0%80`): what such a client sends.
 */
export function encodeLoose(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/\p{Cs}|[^\p{Cs}]+/gu, (part) => {
      if (!/^\p{Cs}$/u.test(part)) return encodeURIComponent(part);
      const cu = part.charCodeAt(0);
      return [0xe0 | (cu >> 12), 0x80 | ((cu >> 6) & 0x3f), 0x80 | (cu & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    });
  }
}

/**
 * A value as text, whatever it is: `String()` throws on an object whose `toString` a mutation
 * replaced (`{"toString": 1}`), so objects go through JSON.
 */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return String(value);
  return JSON.stringify(value) ?? "";
}
