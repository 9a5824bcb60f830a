/**
 * What a text may hold before it is stored or sent. Real CRM exports carry NUL bytes, lone
 * UTF-16 surrogates (a string cut in the middle of an emoji) and stray line breaks; PostgreSQL
 * cannot store the first two (`text` and `jsonb` refuse U+0000; JSON with an unpaired `\ud800`
 * is refused, and a bare one would silently become U+FFFD), and protocols forbid the last in a
 * header or an identifier. Three kinds, from the most to the least permissive:
 *
 * - `text`: free text (a body, a comment): no NUL, no lone surrogate; line breaks and tabs are fine.
 * - `line`: one line (a subject, a header value, a display name): also no CR, LF or other C0
 *   control character but TAB, and no DEL: a CR/LF in a header is a header injection.
 * - `token`: an identifier (external ids, references, names): no control character at all
 *   (C0, DEL, C1), not even TAB.
 */
export type TextKind = "text" | "line" | "token";

const LONE_SURROGATE = /\p{Cs}/u;
// deno-lint-ignore no-control-regex
const LINE_FORBIDDEN = /[\x00-\x08\x0A-\x1F\x7F]/u;
// deno-lint-ignore no-control-regex
const TOKEN_FORBIDDEN = /[\x00-\x1F\x7F-\x9F]/u;

const hex = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** Why `value` cannot be used as a text of that kind, or null when it can. */
export function textProblem(value: string, kind: TextKind = "text"): string | null {
  if (value.includes("\u0000")) return "contains a NUL character (U+0000)";
  if (LONE_SURROGATE.test(value)) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  if (kind === "text") return null;
  const bad = (kind === "line" ? LINE_FORBIDDEN : TOKEN_FORBIDDEN).exec(value);
  if (!bad) return null;
  if (bad[0] === "\r" || bad[0] === "\n") return "contains a line break (CR or LF)";
  return `contains a control character (${hex(bad[0])})`;
}

export interface TextIssue {
  /** Path of the offending value (or key) from the walked value, e.g. `["data", "a", 3]`. */
  path: (string | number)[];
  message: string;
}

/**
 * Every string (keys included) of a JSON value that is not a `kind` text, and nesting deeper than
 * `maxDepth` (reported once, at the first level too deep). Stops after `limit` issues so that a
 * hostile value costs little. The walk is bounded by `maxDepth`, so it cannot overflow the stack.
 */
export function jsonTextIssues(
  value: unknown,
  options: { kind?: TextKind; maxDepth?: number; limit?: number } = {},
): TextIssue[] {
  const kind = options.kind ?? "text";
  const maxDepth = options.maxDepth ?? 32;
  const limit = options.limit ?? 20;
  const issues: TextIssue[] = [];
  const walk = (v: unknown, path: (string | number)[], depth: number): void => {
    if (issues.length >= limit) return;
    if (typeof v === "string") {
      const problem = textProblem(v, kind);
      if (problem) issues.push({ path, message: problem });
      return;
    }
    if (typeof v !== "object" || v === null) return;
    if (depth >= maxDepth) {
      issues.push({ path, message: `nested deeper than ${maxDepth} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i], depth + 1));
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      const problem = textProblem(key, "token");
      if (problem) issues.push({ path: [...path, key], message: `field name ${problem}` });
      walk(item, [...path, key], depth + 1);
    }
  };
  walk(value, [], 0);
  return issues.slice(0, limit);
}
