/**
 * Personalization templates: `{{field}}` and `{{field|default text}}` in a subject, a text or an
 * HTML body, filled from a recipient's fields. Compiled once per delivery, rendered once per
 * message, so rendering is a walk over prepared parts, never a new parse.
 *
 * Syntax, and what is literal text:
 * - A placeholder is `{{`, optional whitespace, a field name, optional whitespace, optionally `|`
 *   and a default, then `}}`: `{{ first_name | customer }}`. The default is trimmed and may hold
 *   anything but braces (line breaks included).
 * - Field names are what personalization fields are named with: letters, digits, `_`, `.`, `-`
 *   (`{{address.city}}` names the field `address.city`; there is no nesting).
 * - Anything else is literal text and comes out as written: an unclosed `{{name`, a lone `}}`,
 *   `{{ two words }}`, and any run of three or more braces: `{{{name}}}` and `{{{{name}}}}` are
 *   not placeholders, so an author who needs `{{` in a body can have it without an escape syntax
 *   (Mustache's triple braces mean "unescaped"; here they never do, so HTML stays escaped).
 */

/** How a value is inserted. */
export type TemplateMode =
  /** HTML body: `& < > " '` of values and defaults are escaped. */
  | "html"
  /** Plain text body: values as they are. */
  | "text"
  /** One line (the subject): line breaks and other control characters of values become a space. */
  | "line";

export type TemplateValue = string | number | boolean | null | undefined;
export type TemplateFields = Readonly<Record<string, TemplateValue>>;

export type RenderResult =
  | { ok: true; value: string }
  /** Fields that were absent or null and had no default, each named once, in order of use. */
  | { ok: false; missing: string[] };

export interface CompiledTemplate {
  readonly source: string;
  /** Every field name the template uses, once each, in order of first use. */
  readonly fields: readonly string[];
  render(fields: TemplateFields | null | undefined, mode: TemplateMode): RenderResult;
}

interface Placeholder {
  readonly name: string;
  readonly fallback: string | null;
}

// The `{{` may not follow a `{` and the `}}` may not precede a `}`: longer runs are literal.
const PLACEHOLDER = /(?<!\{)\{\{\s*([\p{L}\p{N}_.-]+)\s*(?:\|([^{}]*))?\}\}(?!\})/gu;

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const HTML_SPECIAL = /[&<>"']/gu;
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: none belongs in a
// header line; a run of them (CRLF) becomes one space.
// deno-lint-ignore no-control-regex
const LINE_BREAKING = /[\x00-\x1F\x7F-\x9F\u2028\u2029]+/gu;

function insert(value: string, mode: TemplateMode): string {
  switch (mode) {
    case "html":
      return value.replace(HTML_SPECIAL, (ch) => HTML_ESCAPES[ch]!);
    case "line":
      return value.replace(LINE_BREAKING, " ");
    case "text":
      return value;
  }
}

export function compileTemplate(source: string): CompiledTemplate {
  // Literal pieces and placeholders alternate: literals[i], parts[i], literals[i + 1] …
  const literals: string[] = [];
  const parts: Placeholder[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    literals.push(source.slice(last, match.index));
    parts.push({ name: match[1]!, fallback: match[2] === undefined ? null : match[2].trim() });
    last = match.index + match[0].length;
  }
  literals.push(source.slice(last));
  const fields = [...new Set(parts.map((p) => p.name))];

  if (parts.length === 0) {
    return { source, fields, render: () => ({ ok: true, value: source }) };
  }

  return {
    source,
    fields,
    render(values, mode) {
      let out = literals[0]!;
      let missing: string[] | null = null;
      for (let i = 0; i < parts.length; i++) {
        const { name, fallback } = parts[i]!;
        // Own properties only: a field named `constructor` or `__proto__` is just absent.
        const value = values && Object.hasOwn(values, name) ? values[name] : undefined;
        if (value === null || value === undefined) {
          if (fallback === null) {
            missing ??= [];
            if (!missing.includes(name)) missing.push(name);
            continue;
          }
          out += insert(fallback, mode);
        } else {
          out += insert(typeof value === "string" ? value : String(value), mode);
        }
        out += literals[i + 1]!;
      }
      return missing ? { ok: false, missing } : { ok: true, value: out };
    },
  };
}
