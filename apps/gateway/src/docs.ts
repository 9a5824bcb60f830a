/**
 * A readable API reference at /docs, rendered on the server from the OpenAPI document: no
 * script, no assets from a CDN, so it works offline and behind any proxy.
 *
 * The document is read defensively (`unknown` in, every field checked) because it is generated
 * from the routes' zod schemas and grows as they do: a keyword this page does not know is left
 * out, never a reason to fail the page.
 */
type Json = Record<string, unknown>;

/** Nesting levels of a schema shown as field rows; deeper fields stay in /openapi.json. */
const MAX_DEPTH = 6;
const METHODS = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Json => (isObj(v) ? v : {});

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const esc = (s: string) => s.replace(/[&<>"']/gu, (ch) => ESCAPES[ch]!);

/** A value as it is written in a request: strings bare, the rest as JSON. */
const literal = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v));
const code = (v: unknown) => `<code>${esc(literal(v))}</code>`;

// --- Markdown ---------------------------------------------------------------------------------
//
// Hand-written rather than a library: the texts are ours (route descriptions) and use a tiny
// subset — code spans, **bold**, *emphasis*, [links](url) and paragraphs. marked would pass raw
// HTML through, and making its output safe would take a sanitizer, a second dependency. Here
// everything is escaped first, so no markup can come from the text itself; underscores are not
// emphasis, since identifiers in our texts are full of them.

/** Splits off code spans the CommonMark way: a run of N backticks closes at the next run of N. */
function codeSpans(text: string): (string | { code: string })[] {
  const parts: (string | { code: string })[] = [];
  let plain = "";
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("`", i);
    if (open === -1) {
      plain += text.slice(i);
      break;
    }
    plain += text.slice(i, open);
    let after = open;
    while (text[after] === "`") after++;
    const run = after - open;
    let close = -1;
    for (let k = text.indexOf("`", after); k !== -1; k = text.indexOf("`", k)) {
      let end = k;
      while (text[end] === "`") end++;
      if (end - k === run) {
        close = k;
        break;
      }
      k = end;
    }
    if (close === -1) {
      // An unpaired run is literal text.
      plain += text.slice(open, after);
      i = after;
      continue;
    }
    let content = text.slice(after, close).replace(/\n/gu, " ");
    // One space each side lets a span start or end with a backtick: `` `x` ``.
    if (/^ .*[^ ].* $/su.test(content)) content = content.slice(1, -1);
    if (plain) parts.push(plain);
    plain = "";
    parts.push({ code: content });
    i = close + run;
  }
  if (plain) parts.push(plain);
  return parts;
}

/** Links only to the web, to this site or to an anchor: no `javascript:`, `data:` and the like. */
function safeUrl(url: string): boolean {
  const first = url.search(/[:/?#]/u);
  if (first === -1 || url[first] !== ":") return true;
  return /^https?$/iu.test(url.slice(0, first));
}

/** One paragraph's inline Markdown as HTML, with everything from the text escaped. */
export function renderInline(text: string): string {
  const spans: string[] = [];
  // NUL marks where a code span goes back in, so that emphasis and links never look inside it.
  const marked = codeSpans(text.replace(/\0/gu, "\uFFFD"))
    .map((part) => {
      if (typeof part === "string") return esc(part);
      spans.push(`<code>${esc(part.code)}</code>`);
      return `\0${spans.length - 1}\0`;
    })
    .join("");
  const emphasis = (html: string) =>
    html
      .replace(/\*\*(?=\S)([^]*?\S)\*\*/gu, "<strong>$1</strong>")
      .replace(/\*([^\s*](?:[^*]*?[^\s*])?)\*/gu, "<em>$1</em>");
  const linked = marked.replace(
    /\[([^[\]]+)\]\(([^()\s\0]+)\)/gu,
    (whole, label: string, url: string) => {
      if (!safeUrl(url.replace(/&amp;/gu, "&"))) return whole;
      // The URL is escaped already, so it cannot leave its quoted attribute; held aside like a
      // code span, so that a `*` in it is never taken for emphasis.
      spans.push(`<a href="${url}">${emphasis(label)}</a>`);
      return `\0${spans.length - 1}\0`;
    },
  );
  const restore = (html: string): string =>
    html.replace(/\0(\d+)\0/gu, (_, n: string) => restore(spans[Number(n)]!));
  return restore(emphasis(linked));
}

/** Markdown with paragraphs (separated by a blank line) as HTML. */
export function renderMarkdown(text: string): string {
  return text
    .trim()
    .split(/\n[ \t]*\n/u)
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => `<p>${renderInline(p)}</p>`)
    .join("");
}

// --- Schemas ----------------------------------------------------------------------------------

interface Resolved {
  schema: Json;
  /** The component's name when the schema came from a `$ref`. */
  name?: string;
  /** The `$ref` is one being expanded already: showing it again would never end. */
  cycle?: boolean;
  /** Every `$ref` on the way here, the ancestors' included. */
  seen: ReadonlySet<string>;
}

/** One segment of a JSON pointer, unescaped (RFC 6901, inside a URI fragment). */
function token(raw: string): string {
  let key = raw;
  try {
    key = decodeURIComponent(raw);
  } catch {
    // A stray `%` is taken literally rather than failing the page.
  }
  return key.replace(/~1/gu, "/").replace(/~0/gu, "~");
}

/** A JSON pointer within the document (`#/components/schemas/Recipient`). */
function pointer(root: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = token(raw);
    at = isObj(at) ? at[key] : Array.isArray(at) ? at[Number(key)] : undefined;
  }
  return at;
}

const refName = (ref: string) => token(ref.slice(ref.lastIndexOf("/") + 1));

/** Follows `$ref`s, guarding against cycles, and merges `allOf` into one object schema. */
function resolve(root: Json, value: unknown, seen: ReadonlySet<string>): Resolved {
  let schema = obj(value);
  let name: string | undefined;
  const path = new Set(seen);
  while (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    name = refName(ref);
    if (path.has(ref)) return { schema: {}, name, cycle: true, seen: path };
    path.add(ref);
    const target = pointer(root, ref);
    // OpenAPI 3.1 allows keywords beside a $ref (a description, say): they win.
    const siblings = Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$ref"));
    schema = { ...obj(target), ...siblings };
  }
  if (Array.isArray(schema.allOf)) {
    const merged: Json = { ...schema };
    delete merged.allOf;
    const properties: Json = { ...obj(schema.properties) };
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    for (const member of schema.allOf) {
      const part = resolve(root, member, path);
      if (part.cycle) continue;
      for (const k of part.seen) path.add(k);
      Object.assign(properties, obj(part.schema.properties));
      if (Array.isArray(part.schema.required)) part.schema.required.forEach((r) => required.add(r));
      for (const [k, v] of Object.entries(part.schema)) if (!(k in merged)) merged[k] = v;
    }
    if (Object.keys(properties).length) merged.properties = properties;
    if (required.size) merged.required = [...required];
    name = undefined;
    schema = merged;
  }
  return { schema, name, seen: path };
}

const types = (s: Json): string[] =>
  Array.isArray(s.type)
    ? s.type.filter((t) => typeof t === "string")
    : str(s.type)
    ? [s.type as string]
    : [];
const union = (s: Json): unknown[] | undefined =>
  Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : undefined;

/** Whether a schema has fields of its own to list as rows under it. */
function hasChildren(root: Json, r: Resolved): boolean {
  const s = r.schema;
  if (r.cycle) return false;
  if (isObj(s.properties) && Object.keys(s.properties).length) return true;
  if (isObj(s.additionalProperties)) {
    return hasChildren(root, resolve(root, s.additionalProperties, r.seen));
  }
  if (isObj(s.items)) {
    const item = resolve(root, s.items, r.seen);
    return item.cycle === true || hasChildren(root, item);
  }
  return (union(s) ?? []).some((m) => hasChildren(root, resolve(root, m, r.seen)));
}

/** A short type name: `string (date-time)`, `Recipient[]`, `string | null`, `record<string, integer>`. */
function typeLabel(root: Json, r: Resolved): string {
  const s = r.schema;
  if (r.cycle) return r.name ?? "object";
  const members = union(s);
  let label: string;
  if (members) {
    const labels = [...new Set(members.map((m) => typeLabel(root, resolve(root, m, r.seen))))];
    label = labels.join(" | ");
    if (types(s).includes("null") && !labels.includes("null")) label += " | null";
  } else {
    const list = types(s);
    if (!list.length) {
      if (isObj(s.properties) || isObj(s.additionalProperties)) list.push("object");
      else if (isObj(s.items)) list.push("array");
      else if ("const" in s) list.push(s.const === null ? "null" : typeof s.const);
      else if (Array.isArray(s.enum) && s.enum.length) {
        list.push(...new Set(s.enum.map((v) => (v === null ? "null" : typeof v))));
      }
    }
    label = list
      .map((t) => {
        if (t === "array") {
          const item = typeLabel(root, resolve(root, s.items, r.seen));
          return item.includes(" ") ? `(${item})[]` : `${item}[]`;
        }
        if (t === "object") {
          if (r.name) return r.name;
          if (!isObj(s.properties) && isObj(s.additionalProperties)) {
            return `record<string, ${
              typeLabel(root, resolve(root, s.additionalProperties, r.seen))
            }>`;
          }
          return "object";
        }
        return str(s.format) ? `${t} (${s.format})` : t;
      })
      .join(" | ");
  }
  if (s.nullable === true && !label.includes("null")) label += " | null";
  return label || "any";
}

/** The limits a value must keep, as short HTML phrases. */
function constraints(root: Json, r: Resolved): string[] {
  const s = r.schema;
  const out: string[] = [];
  if ("const" in s) out.push(`value ${code(s.const)}`);
  if (Array.isArray(s.enum)) {
    out.push(
      s.enum.length === 1
        ? `value ${code(s.enum[0])}`
        : `one of ${s.enum.map((v) => code(v)).join(", ")}`,
    );
  }
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined);
  // OpenAPI 3.0 wrote exclusiveMinimum as a flag on minimum; 3.1 as a number of its own.
  const min = num("minimum");
  const max = num("maximum");
  const bounds: string[] = [];
  if (
    min !== undefined && max !== undefined && s.exclusiveMinimum !== true &&
    s.exclusiveMaximum !== true
  ) {
    bounds.push(`range ${min}–${max}`);
  } else {
    if (min !== undefined) bounds.push(`${s.exclusiveMinimum === true ? "&gt;" : "≥"} ${min}`);
    if (max !== undefined) bounds.push(`${s.exclusiveMaximum === true ? "&lt;" : "≤"} ${max}`);
  }
  if (num("exclusiveMinimum") !== undefined) bounds.unshift(`&gt; ${num("exclusiveMinimum")}`);
  if (num("exclusiveMaximum") !== undefined) bounds.push(`&lt; ${num("exclusiveMaximum")}`);
  if (bounds.length) out.push(bounds.join(", "));
  if (num("multipleOf") !== undefined) out.push(`multiple of ${num("multipleOf")}`);
  const range = (lo: number | undefined, hi: number | undefined, unit: string) => {
    if (lo !== undefined && hi !== undefined) out.push(`${unit} ${lo}–${hi}`);
    else if (lo !== undefined) out.push(`${unit} ≥ ${lo}`);
    else if (hi !== undefined) out.push(`${unit} ≤ ${hi}`);
  };
  range(num("minLength"), num("maxLength"), "length");
  range(num("minItems"), num("maxItems"), "items");
  range(num("minProperties"), num("maxProperties"), "keys");
  if (str(s.pattern)) out.push(`pattern ${code(s.pattern)}`);
  if (s.uniqueItems === true) out.push("unique items");
  if (s.readOnly === true) out.push("read-only");
  if (s.writeOnly === true) out.push("write-only");
  // The limits of an array's items or a record's values, unless they get rows of their own.
  const inner = (value: unknown, prefix: string) => {
    const item = resolve(root, value, r.seen);
    if (item.cycle || hasChildren(root, item)) return;
    const limits = constraints(root, item);
    if (limits.length) out.push(`${prefix}: ${limits.join(", ")}`);
  };
  if (isObj(s.items)) inner(s.items, "each");
  if (isObj(s.additionalProperties) && !isObj(s.properties)) {
    inner(s.additionalProperties, "each value");
  }
  for (const member of union(s) ?? []) {
    const m = resolve(root, member, r.seen);
    if (m.cycle || hasChildren(root, m)) continue;
    const limits = constraints(root, m);
    if (limits.length) out.push(`${esc(typeLabel(root, m))}: ${limits.join(", ")}`);
  }
  return out;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  constraints: string[];
  default: string;
  description: string;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function describe(s: Json, note?: string): string {
  const parts: string[] = [];
  if (note) parts.push(`<p class="note">${note}</p>`);
  if (s.deprecated === true) parts.push(`<p class="note">Deprecated.</p>`);
  if (str(s.description)) parts.push(renderMarkdown(s.description as string));
  if (s.example !== undefined) parts.push(`<p>Example: ${code(s.example)}</p>`);
  return parts.join("");
}

/** A row for the field at `path`, then rows for what is inside it. */
function walk(
  root: Json,
  value: unknown,
  path: string,
  required: boolean,
  depth: number,
  seen: ReadonlySet<string>,
  out: Row[],
  note?: string,
): void {
  const r = resolve(root, value, seen);
  const row: Row = {
    path,
    type: esc(typeLabel(root, r)),
    required,
    constraints: r.cycle ? [] : constraints(root, r),
    default: "default" in r.schema ? code(r.schema.default) : "",
    description: describe(r.schema, note),
  };
  out.push(row);
  if (r.cycle) {
    row.description += `<p class="note">Recursive: the same fields as <code>${
      esc(r.name ?? "")
    }</code> above.</p>`;
  } else if (depth >= MAX_DEPTH) {
    if (hasChildren(root, r)) {
      row.description +=
        `<p class="note">Its fields are nested too deep to list here: see <a href="/openapi.json">/openapi.json</a>.</p>`;
    }
  } else {
    children(root, r, path, depth + 1, out);
  }
}

/** The rows inside a schema: its properties, its items (`path[]`), record values, union members. */
function children(root: Json, r: Resolved, path: string, depth: number, out: Row[]): void {
  const s = r.schema;
  const properties = obj(s.properties);
  const required = Array.isArray(s.required) ? s.required : [];
  for (const [key, value] of Object.entries(properties)) {
    walk(root, value, join(path, key), required.includes(key), depth, r.seen, out);
  }
  if (isObj(s.additionalProperties)) {
    const values = resolve(root, s.additionalProperties, r.seen);
    if (Object.keys(properties).length) {
      walk(
        root,
        s.additionalProperties,
        join(path, "*"),
        false,
        depth,
        r.seen,
        out,
        "Any other key.",
      );
    } else if (hasChildren(root, values)) {
      children(root, values, join(path, "*"), depth, out);
    }
  }
  if (isObj(s.items)) {
    const item = resolve(root, s.items, r.seen);
    if (item.cycle) walk(root, s.items, `${path}[]`, true, depth, r.seen, out);
    else children(root, item, `${path}[]`, depth, out);
  }
  const members = (union(s) ?? [])
    .map((raw) => ({ raw, member: resolve(root, raw, r.seen) }))
    .filter(({ member }) => member.cycle || hasChildren(root, member));
  const key = members.length > 1
    ? discriminator(root, members.map(({ member }) => member))
    : undefined;
  const field = path.slice(path.lastIndexOf(".") + 1) || "the value";
  for (const { raw, member } of members) {
    const start = out.length;
    if (member.cycle) walk(root, raw, path, false, depth, r.seen, out);
    else children(root, member, path, depth, out);
    // When the value may take another shape, each row says which one it belongs to: a field
    // required in one shape is not required of the others.
    if ((union(s) ?? []).length > 1) {
      let when: string;
      if (key) when = `<code>${esc(key)}</code> = ${code(discriminatorValue(root, member, key))}`;
      else {
        const what = member.name ?? typeLabel(root, member);
        when = `<code>${esc(field)}</code> is ${/^[aeiou]/iu.test(what) ? "an" : "a"} ${
          member.name ? code(what) : esc(what)
        }`;
      }
      for (const row of out.slice(start)) {
        row.description = `<p class="note">When ${when}.</p>${row.description}`;
      }
    }
  }
}

function discriminatorValue(root: Json, m: Resolved, key: string): unknown {
  const p = resolve(root, obj(m.schema.properties)[key], m.seen).schema;
  if ("const" in p) return p.const;
  return Array.isArray(p.enum) && p.enum.length === 1 ? p.enum[0] : undefined;
}

/** The property whose constant value tells a union's members apart (`channel`), if any. */
function discriminator(root: Json, members: Resolved[], hint?: string): string | undefined {
  const value = (m: Resolved, key: string) => discriminatorValue(root, m, key);
  const candidates = hint ? [hint] : Object.keys(obj(members[0]?.schema.properties));
  return candidates.find((key) => {
    const values = members.map((m) => value(m, key));
    return values.every((v) => v !== undefined) &&
      new Set(values.map(literal)).size === values.length;
  });
}

function variantLabels(root: Json, members: Resolved[], hint?: string): string[] {
  const key = members.length > 1 ? discriminator(root, members, hint) : undefined;
  return members.map((m, i) => {
    if (key) {
      const v = discriminatorValue(root, m, key);
      return `<code>${esc(key)}</code> = ${code(v)}${m.name ? ` (${esc(m.name)})` : ""}`;
    }
    return m.name ? `<code>${esc(m.name)}</code>` : `shape ${i + 1} (${esc(typeLabel(root, m))})`;
  });
}

function fieldTable(rows: Row[]): string {
  if (!rows.length) return "";
  const body = rows
    .map((row) => {
      const path = esc(row.path);
      const limits = [...row.constraints, ...(row.default ? [`default ${row.default}`] : [])];
      return `<tr><td class="f"><code>${path}</code></td><td class="t">${row.type}</td><td>${
        row.required ? `<span class="req">required</span>` : ""
      }</td><td class="c">${limits.join("<br>")}</td><td>${row.description}</td></tr>`;
    })
    .join("");
  return `<table class="fields"><colgroup><col class="w-f"><col class="w-t"><col class="w-r"><col class="w-c"><col></colgroup><thead><tr><th>Field</th><th>Type</th><th></th><th>Constraints</th><th>Description</th></tr></thead><tbody>${body}</tbody></table>`;
}

const strictNote = (s: Json) =>
  s.additionalProperties === false
    ? `<p class="note">Fields not listed here are rejected.</p>`
    : "";

/** A paths are "the same field" only when every cell matches, so a row is common iff identical. */
function splitCommon(rowsPer: Row[][]): { common: Row[]; own: Row[][] } {
  const key = (row: Row) => JSON.stringify(row);
  const everywhere = (row: Row) => rowsPer.every((rows) => rows.some((r) => key(r) === key(row)));
  const related = (a: string, b: string) =>
    a === b || [".", "["].some((sep) => a.startsWith(b + sep) || b.startsWith(a + sep));
  const common = new Set((rowsPer[0] ?? []).filter(everywhere).map(key));
  // A shared row whose parent or child differs between variants stays with its variant, so that
  // each table reads as a whole object.
  for (let changed = true; changed;) {
    changed = false;
    const specific = rowsPer.flat().filter((row) => !common.has(key(row))).map((row) => row.path);
    for (const row of rowsPer[0] ?? []) {
      if (common.has(key(row)) && specific.some((p) => related(p, row.path))) {
        common.delete(key(row));
        changed = true;
      }
    }
  }
  return {
    common: (rowsPer[0] ?? []).filter((row) => common.has(key(row))),
    own: rowsPer.map((rows) => rows.filter((row) => !common.has(key(row)))),
  };
}

/** A body's schema: a field table, one per variant of a union, or the text it is. */
function schemaBlock(root: Json, value: unknown): string {
  const r = resolve(root, value, new Set());
  const s = r.schema;
  const name = r.name ? `<p class="schema">Schema <code>${esc(r.name)}</code></p>` : "";
  const intro = name + (str(s.description) ? renderMarkdown(s.description as string) : "");
  const example = s.example !== undefined
    ? `<p>Example:</p><pre>${
      esc(typeof s.example === "string" ? s.example : JSON.stringify(s.example, null, 2))
    }</pre>`
    : "";
  const members = union(s)?.map((m) => resolve(root, m, r.seen));
  if (members && members.some((m) => hasChildren(root, m))) {
    const hint = str(obj(s.discriminator).propertyName);
    const labels = variantLabels(root, members, hint);
    const key = discriminator(root, members, hint);
    const rowsPer = members.map((m) => {
      const rows: Row[] = [];
      if (!m.cycle) children(root, m, "", 0, rows);
      return rows;
    });
    const { common, own } = members.length > 1
      ? splitCommon(rowsPer)
      : { common: [], own: rowsPer };
    const shapes = members
      .map((m, i) =>
        `<div class="variant"><h5>${labels[i]}</h5>${
          str(m.schema.description) ? renderMarkdown(m.schema.description as string) : ""
        }${own[i]!.length ? fieldTable(own[i]!) : `<p>${esc(typeLabel(root, m))}</p>`}${
          strictNote(m.schema)
        }</div>`
      )
      .join("");
    return `${intro}<p>One of ${members.length} shapes${
      key ? `, told apart by <code>${esc(key)}</code>` : ""
    }.</p>${
      common.length ? `<h5>Fields of every shape</h5>${fieldTable(common)}` : ""
    }${shapes}${example}`;
  }
  const rows: Row[] = [];
  children(root, r, "", 0, rows);
  if (rows.length) {
    let shape = "";
    if (isObj(s.items)) {
      shape = `<p>An array of <code>${
        esc(typeLabel(root, resolve(root, s.items, r.seen)))
      }</code>.</p>`;
    } else if (!isObj(s.properties) && isObj(s.additionalProperties)) {
      shape = `<p>An object with any keys (<code>*</code>), each a <code>${
        esc(typeLabel(root, resolve(root, s.additionalProperties, r.seen)))
      }</code>.</p>`;
    }
    return `${intro}${shape}${fieldTable(rows)}${strictNote(s)}${example}`;
  }
  // Text (NDJSON, CSV) or a single value: its type, limits and example say all there is.
  const limits = constraints(root, r);
  return `${intro}<p>Type <code>${esc(typeLabel(root, r))}</code>${
    limits.length ? `; ${limits.join(", ")}` : ""
  }.</p>${example}`;
}

// --- Operations -------------------------------------------------------------------------------

interface Operation {
  id: string;
  method: string;
  path: string;
  tag: string;
  op: Json;
  parameters: Json[];
}

/** Follows a `$ref` to a component other than a schema (a parameter, a response). */
const deref = (root: Json, value: unknown): Json => {
  let at = obj(value);
  for (let hops = 0; typeof at.$ref === "string" && hops < 10; hops++) {
    at = obj(pointer(root, at.$ref));
  }
  return at;
};

const pathHtml = (path: string) =>
  esc(path).replace(/\{[^}]*\}/gu, (p) => `<span class="pp">${p}</span>`);
const badge = (method: string) =>
  `<span class="m ${esc(method)}">${esc(method.toUpperCase())}</span>`;
const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/gu, "-").replace(/^-|-$/gu, "").toLowerCase();

function parameterTable(root: Json, parameters: Json[]): string {
  const rows = parameters
    .map((p) => {
      const schemaValue = p.schema ?? Object.values(obj(p.content)).map((m) => obj(m).schema)[0];
      const r = resolve(root, schemaValue, new Set());
      const limits = constraints(root, r);
      if ("default" in r.schema) limits.push(`default ${code(r.schema.default)}`);
      // zod-openapi copies a parameter's description into its schema: show it once.
      const text = str(p.description) ?? str(r.schema.description);
      const example = p.example ?? r.schema.example;
      const description = [
        p.deprecated === true ? `<p class="note">Deprecated.</p>` : "",
        text ? renderMarkdown(text) : "",
        example !== undefined ? `<p>Example: ${code(example)}</p>` : "",
      ].join("");
      return `<tr><td class="f"><code>${esc(str(p.name) ?? "")}</code></td><td>${
        esc(str(p.in) ?? "")
      }</td><td class="t">${esc(typeLabel(root, r))}</td><td>${
        p.required === true || p.in === "path" ? `<span class="req">required</span>` : ""
      }</td><td class="c">${limits.join("<br>")}</td><td>${description}</td></tr>`;
    })
    .join("");
  return `<h4>Parameters</h4><table class="fields"><colgroup><col class="w-n"><col class="w-i"><col class="w-t"><col class="w-r"><col class="w-c"><col></colgroup><thead><tr><th>Name</th><th>In</th><th>Type</th><th></th><th>Constraints</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function mediaBlock(root: Json, type: string, media: Json): string {
  const examples = Object.entries(obj(media.examples)).map(([name, e]) => {
    const ex = deref(root, e);
    const label = str(ex.summary) ?? name;
    return [label, ex.value] as const;
  });
  if (media.example !== undefined) examples.unshift(["Example", media.example]);
  const shown = examples
    .map(([label, v]) =>
      `<p>${esc(label)}:</p><pre>${
        esc(typeof v === "string" ? v : JSON.stringify(v, null, 2))
      }</pre>`
    )
    .join("");
  return `<div class="media"><h5><code>${esc(type)}</code></h5>${
    media.schema === undefined ? "" : schemaBlock(root, media.schema)
  }${shown}</div>`;
}

function requestBody(root: Json, value: unknown): string {
  const body = deref(root, value);
  const content = Object.entries(obj(body.content));
  if (!content.length) return "";
  return `<h4>Request body${
    body.required === true ? ` <span class="req">required</span>` : ""
  }</h4>${str(body.description) ? renderMarkdown(body.description as string) : ""}${
    content.length > 1 ? `<p>Any of these media types:</p>` : ""
  }${content.map(([type, media]) => mediaBlock(root, type, obj(media))).join("")}`;
}

/** Error bodies are the same few schemas everywhere: named here, shown once in "Errors". */
function responses(root: Json, value: unknown, errorSchemas: Set<string>): string {
  // Two statuses with one body (201 written, 200 replayed) show its fields once.
  const shown = new Map<string, string>();
  const items = Object.entries(obj(value)).map(([status, raw]) => {
    const r = deref(root, raw);
    const success = /^2/u.test(status);
    const content = Object.entries(obj(r.content));
    const headers = Object.entries(obj(r.headers)).map(([name, h]) => {
      const header = deref(root, h);
      return `<li><code>${esc(name)}</code> <span class="t">${
        esc(typeLabel(root, resolve(root, header.schema, new Set())))
      }</span>${
        str(header.description) ? ` — ${renderInline(header.description as string)}` : ""
      }</li>`;
    });
    let detail = headers.length ? `<p>Headers:</p><ul>${headers.join("")}</ul>` : "";
    const same = success && content.length ? shown.get(JSON.stringify(r.content)) : undefined;
    if (same) {
      detail += `<p>The same body as <span class="status s2">${esc(same)}</span>.</p>`;
    } else if (success) {
      shown.set(JSON.stringify(r.content), status);
      detail += content.map(([type, media]) => mediaBlock(root, type, obj(media))).join("");
    } else if (content.length) {
      detail += `<p class="media-list">${
        content
          .map(([type, media]) => {
            const schema = obj(obj(media).schema);
            const name = typeof schema.$ref === "string" ? refName(schema.$ref) : undefined;
            if (name) errorSchemas.add(name);
            return `<code>${esc(type)}</code>${
              name ? ` (<a href="#schema-${esc(slug(name))}">${esc(name)}</a>)` : ""
            }`;
          })
          .join(", ")
      }</p>`;
    }
    return `<div class="resp"><div class="resp-head"><span class="status s${
      esc(status.charAt(0))
    }">${esc(status)}</span> ${
      str(r.description) ? renderInline(r.description as string) : ""
    }</div>${detail ? `<div class="resp-body">${detail}</div>` : ""}</div>`;
  });
  return items.length ? `<h4>Responses</h4>${items.join("")}` : "";
}

function operationSection(root: Json, o: Operation, errorSchemas: Set<string>): string {
  const { op } = o;
  const flags = [
    op.deprecated === true ? `<span class="flag">deprecated</span>` : "",
    Array.isArray(op.security) && op.security.length === 0
      ? `<span class="flag">no authentication</span>`
      : "",
  ].join("");
  return `<section class="op" id="${esc(o.id)}"><h3>${badge(o.method)} <code class="path">${
    pathHtml(o.path)
  }</code> ${flags}<a class="anchor" href="#${
    esc(o.id)
  }" aria-label="Link to this operation">#</a></h3>${
    str(op.summary) ? `<p class="summary">${renderInline(op.summary as string)}</p>` : ""
  }${str(op.description) ? renderMarkdown(op.description as string) : ""}${
    o.parameters.length ? parameterTable(root, o.parameters) : ""
  }${op.requestBody === undefined ? "" : requestBody(root, op.requestBody)}${
    responses(root, op.responses, errorSchemas)
  }</section>`;
}

function operations(root: Json): Operation[] {
  const out: Operation[] = [];
  const ids = new Set<string>();
  for (const [path, rawItem] of Object.entries(obj(root.paths))) {
    const item = deref(root, rawItem);
    const shared = Array.isArray(item.parameters) ? item.parameters.map((p) => deref(root, p)) : [];
    for (const method of METHODS) {
      if (!isObj(item[method])) continue;
      const op = item[method] as Json;
      const own = Array.isArray(op.parameters) ? op.parameters.map((p) => deref(root, p)) : [];
      // An operation's parameter overrides the path's of the same name and place.
      const parameters = [
        ...shared.filter((s) => !own.some((p) => p.name === s.name && p.in === s.in)),
        ...own,
      ];
      let id = slug(`${method} ${path}`) || "operation";
      for (let n = 2; ids.has(id); n++) id = `${slug(`${method} ${path}`)}-${n}`;
      ids.add(id);
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === "string" ? op.tags[0] : "other";
      out.push({ id, method, path, tag, op, parameters });
    }
  }
  return out;
}

const STYLE = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--soft:#151b23;--link:#4493f8}body{background:#0d1117}}
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1180px;margin:2em auto;padding:0 1.2em;color:var(--fg)}
a{color:var(--link)}h1{margin-bottom:.2em}h2{margin-top:2.2em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{margin:.2em 0;font-size:1.15em}h4{margin:1.2em 0 .4em;font-size:1em}h5{margin:.9em 0 .3em;font-size:.92em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
code{background:var(--soft);padding:.05em .3em;border-radius:3px}
pre{background:var(--soft);padding:.6em .8em;border-radius:4px;overflow-x:auto;white-space:pre-wrap}
section.op{border-top:1px solid var(--line);padding:1em 0 1.2em;scroll-margin-top:1em}
.summary{font-weight:600;margin:.3em 0}.path{background:none;font-size:1em}.pp{color:var(--link)}
.anchor{margin-left:.4em;text-decoration:none;color:var(--muted);font-weight:normal}
.m{display:inline-block;min-width:4.2em;text-align:center;font-size:.75em;color:#fff;padding:.15em .4em;border-radius:3px;background:#555;vertical-align:.1em}
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#bc4c00}.patch{background:#8250df}.delete{background:#cf222e}
.flag{font-size:.75em;border:1px solid var(--line);border-radius:3px;padding:0 .3em;color:var(--muted);font-weight:normal}
table.fields{border-collapse:collapse;width:100%;table-layout:fixed;font-size:.88em;margin:.3em 0 .6em}
.fields th,.fields td{border:1px solid var(--line);padding:.3em .5em;text-align:left;vertical-align:top}
.fields th{background:var(--soft);font-weight:600}.fields td p{margin:0 0 .3em}.fields td p:last-child{margin:0}
td.f{overflow-wrap:anywhere}td.t,td.c{overflow-wrap:anywhere}
.w-f{width:25%}.w-n{width:15%}.w-i{width:4.5em}.w-t{width:14%}.w-r{width:5.5em}.w-c{width:19%}td.f code{background:none;padding:0;font-weight:600}td.t{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;color:var(--muted)}
td.c{color:var(--muted);min-width:7em}.req{font-size:.8em;color:#cf222e;font-weight:600}
.note{color:var(--muted);font-style:italic}.schema{color:var(--muted);margin:.3em 0}
.media,.variant{margin-left:.2em}.variant{border-left:3px solid var(--line);padding-left:.8em;margin:.6em 0}
.resp{margin:.5em 0}.resp-body{margin-left:1.2em}
.status{display:inline-block;min-width:2.6em;font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace}
.s2{color:#1a7f37}.s4{color:#bc4c00}.s5{color:#cf222e}
nav.toc{columns:2 22em;column-gap:2.5em;background:var(--soft);padding:.6em 1.2em;border-radius:6px}
nav.toc h3{margin:.6em 0 .2em;break-after:avoid}nav.toc ul{list-style:none;margin:0;padding:0}
nav.toc li{margin:.15em 0;break-inside:avoid}nav.toc .m{min-width:3.8em;font-size:.68em}nav.toc a{text-decoration:none}
nav.toc .s{color:var(--muted);font-size:.88em}
`;

/** The whole page for an OpenAPI 3.1 document. */
export function docsPage(doc: unknown): string {
  const root = obj(doc);
  const info = obj(root.info);
  const title = str(info.title) ?? "API";
  const ops = operations(root);
  const declared = Array.isArray(root.tags) ? root.tags.map(obj) : [];
  const tagNames = [
    ...new Set([
      ...declared.map((t) => str(t.name)).filter((t) => t !== undefined),
      ...ops.map((o) => o.tag),
    ]),
  ].filter((t) => ops.some((o) => o.tag === t));
  const errorSchemas = new Set<string>();

  const toc: string[] = [];
  const groups: string[] = [];
  for (const tag of tagNames) {
    const mine = ops.filter((o) => o.tag === tag);
    const tagId = `tag-${slug(tag)}`;
    const about = str(declared.find((t) => t.name === tag)?.description);
    toc.push(`<h3><a href="#${esc(tagId)}">${esc(tag)}</a></h3><ul>${
      mine
        .map((o) =>
          `<li><a href="#${esc(o.id)}">${badge(o.method)} <code class="path">${
            pathHtml(o.path)
          }</code></a>${
            str(o.op.summary)
              ? `<br><span class="s">${renderInline(o.op.summary as string)}</span>`
              : ""
          }</li>`
        )
        .join("")
    }</ul>`);
    groups.push(
      `<h2 id="${esc(tagId)}">${esc(tag)}</h2>${about ? renderMarkdown(about) : ""}${
        mine.map((o) => operationSection(root, o, errorSchemas)).join("\n")
      }`,
    );
  }
  // Rendered after the operations, which collect the error schemas they name.
  const errors = [...errorSchemas]
    .filter((name) => isObj(obj(obj(root.components).schemas)[name]))
    .map((name) =>
      `<section class="op" id="schema-${esc(slug(name))}"><h3><code>${esc(name)}</code></h3>${
        schemaBlock(root, {
          $ref: `#/components/schemas/${name.replace(/~/gu, "~0").replace(/\//gu, "~1")}`,
        })
      }</section>`
    );
  if (errors.length) toc.push(`<h3><a href="#errors">Errors</a></h3>`);

  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${
    esc(title)
  } API reference</title>
<style>${STYLE}</style></head>
<body><h1>${esc(title)} API${
    str(info.version) ? ` <small>${esc(info.version as string)}</small>` : ""
  }</h1>
${str(info.description) ? renderMarkdown(info.description as string) : ""}
<p>Every <code>/v1</code> call needs <code>Authorization: Bearer &lt;key&gt;</code>.
Errors are <code>application/problem+json</code> (RFC 9457). Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<nav class="toc" aria-label="Contents">${toc.join("")}</nav>
${groups.join("\n")}
${
    errors.length
      ? `<h2 id="errors">Errors</h2><p>The bodies of failed calls, as the responses above name them.</p>${
        errors.join("")
      }`
      : ""
  }
</body></html>`;
}
