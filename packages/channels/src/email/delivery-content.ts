import {
  type CompiledTemplate,
  compileTemplate,
  emailDomain,
  parseMailbox,
  textProblem,
} from "@sendgate/core";
import { customHeaderProblem, MAX_CUSTOM_HEADERS } from "./headers.ts";

/** A delivery's email content, checked and compiled: what every one of its messages shares. */
export interface DeliveryContent {
  readonly from: { name: string; address: string };
  readonly fromDomain: string;
  readonly replyTo: { name: string; address: string } | null;
  readonly subject: CompiledTemplate;
  readonly text: CompiledTemplate | null;
  readonly html: CompiledTemplate | null;
  readonly headers: readonly (readonly [string, string])[];
}

export type ContentCheck = { ok: true; content: DeliveryContent } | { ok: false; problem: string };

const isString = (v: unknown): v is string => typeof v === "string";

/**
 * Checks a delivery's content again (intake validated it; a channel does not trust a database
 * row to have come only through intake) and compiles its templates.
 */
export function compileContent(raw: Readonly<Record<string, unknown>>): ContentCheck {
  const from = isString(raw.from) ? parseMailbox(raw.from) : null;
  if (!from?.ok) return { ok: false, problem: `from: ${from?.error ?? "missing"}` };
  let replyTo: DeliveryContent["replyTo"] = null;
  if (raw.replyTo !== undefined && raw.replyTo !== null) {
    const parsed = isString(raw.replyTo) ? parseMailbox(raw.replyTo) : null;
    if (!parsed?.ok) return { ok: false, problem: `replyTo: ${parsed?.error ?? "not a string"}` };
    replyTo = { name: parsed.name ?? "", address: parsed.address };
  }
  if (!isString(raw.subject)) return { ok: false, problem: "subject: missing" };
  for (const key of ["text", "html"] as const) {
    if (raw[key] !== undefined && raw[key] !== null && !isString(raw[key])) {
      return { ok: false, problem: `${key}: not a string` };
    }
  }
  if (!isString(raw.text) && !isString(raw.html)) {
    return { ok: false, problem: "text or html: give at least one" };
  }
  const headers: [string, string][] = [];
  if (raw.headers !== undefined && raw.headers !== null) {
    if (typeof raw.headers !== "object" || Array.isArray(raw.headers)) {
      return { ok: false, problem: "headers: not an object" };
    }
    const entries = Object.entries(raw.headers as Record<string, unknown>);
    if (entries.length > MAX_CUSTOM_HEADERS) {
      return { ok: false, problem: `headers: more than ${MAX_CUSTOM_HEADERS}` };
    }
    for (const [name, value] of entries) {
      // Defense in depth: a `Bcc` or a CR/LF here would redirect or forge the message.
      const problem = customHeaderProblem(name) ??
        (isString(value) ? textProblem(value, "line") : "not a string");
      if (problem) return { ok: false, problem: `headers.${name}: ${problem}` };
      headers.push([name, value as string]);
    }
  }
  return {
    ok: true,
    content: {
      from: { name: from.name ?? "", address: from.address },
      fromDomain: emailDomain(from.address),
      replyTo,
      subject: compileTemplate(raw.subject),
      text: isString(raw.text) ? compileTemplate(raw.text) : null,
      html: isString(raw.html) ? compileTemplate(raw.html) : null,
      headers,
    },
  };
}

interface Entry {
  raw: Readonly<Record<string, unknown>>;
  check: ContentCheck;
}

const SOURCES = ["from", "replyTo", "subject", "text", "html"] as const;

/** Same content, whether or not it is the same object (a dispatcher may parse each row anew). */
function sameContent(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) {
  if (a === b) return true;
  if (!SOURCES.every((k) => a[k] === b[k])) return false;
  const ha = (a.headers ?? {}) as Record<string, unknown>;
  const hb = (b.headers ?? {}) as Record<string, unknown>;
  const ka = Object.keys(ha);
  return ka.length === Object.keys(hb).length && ka.every((k) => ha[k] === hb[k]);
}

/**
 * Compiled content by delivery id, the most recently used kept. A delivery's messages come in
 * many batches; compiling its templates once per delivery rather than per message is the point.
 * An entry is checked against the content it was compiled from, so a changed content (or two
 * deliveries sharing an id in a test) never renders stale templates.
 */
export function createContentCache(maxEntries: number) {
  const entries = new Map<string, Entry>();
  return {
    get(deliveryId: string, raw: Readonly<Record<string, unknown>>): ContentCheck {
      const hit = entries.get(deliveryId);
      if (hit && sameContent(hit.raw, raw)) {
        // Map order is recency order: move the entry to the end.
        entries.delete(deliveryId);
        entries.set(deliveryId, hit);
        return hit.check;
      }
      const check = compileContent(raw);
      entries.delete(deliveryId);
      entries.set(deliveryId, { raw, check });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return check;
    },
    get size() {
      return entries.size;
    },
  };
}
