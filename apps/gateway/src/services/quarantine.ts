import { and, asc, eq, sql } from "drizzle-orm";
import {
  type AddressState,
  AddressStatus,
  type Channel,
  decideAddress,
  type FailureType,
  normalizeAddress,
  type ReasonCode,
  textProblem,
} from "@sendgate/core";
import { execute, plans, quarantine } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { ServiceError } from "./errors.ts";

type Row = typeof quarantine.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const ms = (d: Date | null) => (d ? d.getTime() : null);

export function entryView(row: Row) {
  return {
    channel: row.channel as Channel,
    address: row.address,
    /** The instance whose own entry this is (its suppression list), or null for the platform's. */
    instanceId: row.scope === "" ? null : row.scope,
    status: row.status as AddressStatus,
    errorCount: row.errorCount,
    lastType: row.lastType,
    lastReason: row.lastReason,
    lastText: row.lastText,
    firstErrorAt: iso(row.firstErrorAt),
    lastErrorAt: iso(row.lastErrorAt),
    statusSince: row.statusSince.toISOString(),
    comment: row.comment,
    updatedAt: row.updatedAt.toISOString(),
  };
}
export type QuarantineEntry = ReturnType<typeof entryView>;

function stateOf(row: Row): AddressState {
  return {
    status: row.status as AddressStatus,
    errorCount: row.errorCount,
    lastType: row.lastType as FailureType | null,
    lastReason: row.lastReason as ReasonCode | null,
    lastText: row.lastText,
    firstErrorAt: ms(row.firstErrorAt),
    lastErrorAt: ms(row.lastErrorAt),
    statusSince: row.statusSince.getTime(),
    comment: row.comment,
  };
}

/** The platform's entry of an address (the operator routes' scope). */
/**
 * One entry of a scope: `''` the platform's (operator routes), an instance's id its own
 * (the instance's suppression routes).
 */
const entryOf = (channel: Channel, address: string, scope: string) =>
  and(
    eq(quarantine.channel, channel),
    eq(quarantine.address, address),
    eq(quarantine.scope, scope),
  );

/** The platform's scope. */
export const PLATFORM = "";

/** The address in its channel's normal form, as the table keys it; a bad one is a 400 naming it. */
function normalized(channel: Channel, raw: string): string {
  const check = normalizeAddress(channel, raw);
  if (!check.ok) {
    throw new ServiceError("invalid", `invalid ${channel} address`, [{
      path: "param.address",
      message: check.error,
    }]);
  }
  return check.address;
}

export interface EntryFilter {
  channel?: Channel | undefined;
  status?: AddressStatus | undefined;
  /** Case-insensitive substring of the address. */
  q?: string | undefined;
  /** Only this scope's entries (an instance's own); every scope when absent (operators). */
  scope?: string | undefined;
  after?: { c: string; a: string; s?: string | undefined } | null;
  limit: number;
}

/** A page of the quarantine, by (channel, address): the primary key serves the keyset. */
export async function listEntries(deps: AppDeps, f: EntryFilter) {
  const t = quarantine;
  const filters = [];
  if (f.channel) filters.push(eq(t.channel, f.channel));
  if (f.status) filters.push(eq(t.status, f.status));
  if (f.scope !== undefined) filters.push(eq(t.scope, f.scope));
  // strpos, not LIKE: the operator's text is taken literally (`%` and `_` included).
  if (f.q) filters.push(sql`strpos(lower(${t.address}), lower(${f.q})) > 0`);
  if (f.after) {
    filters.push(
      sql`(${t.channel}, ${t.address}, ${t.scope}) > (${f.after.c}, ${f.after.a}, ${
        f.after.s ?? ""
      })`,
    );
  }
  const rows = await deps.database.db.select().from(t).where(and(...filters))
    .orderBy(asc(t.channel), asc(t.address), asc(t.scope)).limit(f.limit + 1);
  const items = rows.slice(0, f.limit);
  const last = rows.length > f.limit ? items.at(-1)! : null;
  return {
    items: items.map(entryView),
    next: last ? { c: last.channel as Channel, a: last.address, s: last.scope } : null,
  };
}

export async function getEntry(deps: AppDeps, channel: Channel, raw: string, scope = PLATFORM) {
  const address = normalized(channel, raw);
  const [row] = await deps.database.db.select().from(quarantine)
    .where(entryOf(channel, address, scope));
  if (!row) throw new ServiceError("notFound", `${address} has no quarantine entry for ${channel}`);
  return entryView(row);
}

/** The statuses an operator may set; `erroneous` only ever comes from errors. */
export const settableStatuses = [
  AddressStatus.denylisted,
  AddressStatus.allowlisted,
  AddressStatus.valid,
  AddressStatus.quarantined,
] as const;
export type SettableStatus = typeof settableStatuses[number];

/**
 * An operator sets an address's status: the core's `set` event decides the new state (status
 * date kept when the status does not change, error count reset on `valid`). The row is locked
 * while deciding so that a concurrent failure is not lost. The operator becomes the cause: the
 * cause text and rule are cleared, so that re-qualifying a text never undoes an operator's call.
 */
export async function setStatus(
  deps: Pick<AppDeps, "database" | "now">,
  channel: Channel,
  raw: string,
  input: { status: SettableStatus; comment?: string | undefined },
  scope = PLATFORM,
): Promise<{ entry: QuarantineEntry; created: boolean }> {
  const address = normalized(channel, raw);
  const at = deps.now();
  return await deps.database.db.transaction(async (tx) => {
    const [row] = await tx.select().from(quarantine)
      .where(entryOf(channel, address, scope)).for("update");
    const event = {
      kind: "set",
      status: input.status,
      at,
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
    } as const;
    const next = decideAddress(row ? stateOf(row) : null, event)!;
    const values = {
      status: next.status,
      errorCount: next.errorCount,
      lastType: next.lastType,
      lastReason: next.lastReason,
      lastText: next.lastText,
      causeText: null,
      causeRuleId: null,
      firstErrorAt: next.firstErrorAt === null ? null : new Date(next.firstErrorAt),
      lastErrorAt: next.lastErrorAt === null ? null : new Date(next.lastErrorAt),
      statusSince: new Date(next.statusSince),
      comment: next.comment,
      updatedAt: new Date(at),
    };
    // On conflict: another request created the row between our read and this write; last wins.
    const [written] = await tx.insert(quarantine).values({ channel, address, scope, ...values })
      .onConflictDoUpdate({
        target: [quarantine.channel, quarantine.address, quarantine.scope],
        set: values,
      })
      .returning();
    return { entry: entryView(written!), created: !row };
  });
}

/** Removes an address's entry: with none, the address is valid again. */
export async function deleteEntry(
  deps: AppDeps,
  channel: Channel,
  raw: string,
  scope = PLATFORM,
): Promise<void> {
  const address = normalized(channel, raw);
  const removed = await deps.database.db.delete(quarantine)
    .where(entryOf(channel, address, scope)).returning({
      address: quarantine.address,
    });
  if (removed.length === 0) {
    throw new ServiceError("notFound", `${address} has no quarantine entry for ${channel}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Import of a suppression list

export const importStatuses = [
  AddressStatus.denylisted,
  AddressStatus.allowlisted,
  AddressStatus.quarantined,
] as const;
export type ImportStatus = typeof importStatuses[number];
export type ImportFormat = "csv" | "ndjson";

export interface ImportAnswer {
  /** Non-empty lines, header excluded. */
  received: number;
  /** Lines whose address was written (a duplicate line counts each time). */
  imported: number;
  invalid: number;
  /** The first invalid lines, with their 1-based line number in the file. */
  errors: { line: number; address: string | null; error: string }[];
}

export const IMPORT_BATCH = 5_000;
const MAX_REPORTED = 100;
/** A line longer than this is refused without being held: memory stays flat on a file with no newline. */
const MAX_LINE = 8_192;
const MAX_COMMENT = 1_000;

/**
 * Splits decoded text into lines (LF or CRLF) across chunk boundaries. A line over `max`
 * characters is cut and reported as `tooLong` instead of growing the buffer.
 */
export class LineSplitter {
  private pending = "";
  private skipping = false;
  private number = 0;
  constructor(private readonly max = MAX_LINE) {}

  /** The complete lines in `chunk` (call `end()` for the last one). */
  push(chunk: string): { number: number; text: string; tooLong: boolean }[] {
    const out: { number: number; text: string; tooLong: boolean }[] = [];
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
      this.number++;
      if (this.skipping) this.skipping = false;
      else {
        const text = this.pending + chunk.slice(start, nl);
        const line = text.endsWith("\r") ? text.slice(0, -1) : text;
        out.push(
          line.length > this.max
            ? { number: this.number, text: line.slice(0, 80), tooLong: true }
            : { number: this.number, text: line, tooLong: false },
        );
      }
      this.pending = "";
      start = nl + 1;
    }
    if (!this.skipping) {
      this.pending += chunk.slice(start);
      if (this.pending.length > this.max) {
        // Reported now, under the number the line will have; the rest is skipped up to its newline.
        out.push({ number: this.number + 1, text: this.pending.slice(0, 80), tooLong: true });
        this.pending = "";
        this.skipping = true;
      }
    }
    return out;
  }

  end(): { number: number; text: string; tooLong: boolean }[] {
    const last = this.skipping || this.pending === "" ? [] : this.push("\n");
    this.pending = "";
    return last;
  }
}

/**
 * The fields of one CSV line (RFC 4180 quoting: `"a, b"` and `""` inside quotes). A quoted field
 * cannot span lines: an address or a comment never needs to, and it keeps the splitter simple.
 */
export function csvFields(line: string): string[] | null {
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return null;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const comma = line.indexOf(",", i);
      if (line.slice(i, comma === -1 ? undefined : comma).trim() !== "") return null;
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    } else {
      const comma = line.indexOf(",", i);
      fields.push(line.slice(i, comma === -1 ? undefined : comma));
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

type Parsed = { address: string; comment: string | null } | {
  address: string | null;
  error: string;
};

function parseCsvLine(line: string): Parsed {
  const fields = csvFields(line);
  if (!fields) return { address: line.slice(0, 80), error: "unterminated or misplaced quote" };
  const address = fields[0]!.trim();
  const comment = fields[1]?.trim() || null;
  return { address, comment };
}

function parseNdjsonLine(line: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { address: null, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { address: null, error: "not a JSON object" };
  }
  const { address, comment, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (typeof address !== "string") return { address: null, error: "`address` must be a string" };
  if (unknown.length) {
    return {
      address,
      error: `unknown field ${unknown.map((k) => `\`${k}\``).join(", ")}`,
    };
  }
  if (comment !== undefined && comment !== null && typeof comment !== "string") {
    return { address, error: "`comment` must be a string" };
  }
  return { address, comment: (comment as string | null | undefined) || null };
}

/**
 * Imports a suppression list streamed as CSV or NDJSON, without holding it: lines are read as
 * they arrive and written in batches of `IMPORT_BATCH`, one INSERT … ON CONFLICT per batch, and
 * the next batch is read only once the previous one is written (the stream's backpressure keeps
 * memory flat however long the file).
 *
 * Each batch commits on its own. An import that fails midway (a dropped connection, a database
 * error) leaves the batches already written; every batch is an idempotent upsert, so sending the
 * same file again is safe and completes it.
 *
 * Per row, the upsert is the core's `set` event (`decideAddress`) written in SQL: the status date
 * is kept when the status does not change, a line's comment replaces the entry's, and a line with
 * no comment keeps it. A row that would not change is not rewritten, so a re-import leaves
 * `updatedAt` as it was.
 */
export async function importAddresses(
  deps: AppDeps,
  input: {
    channel: Channel;
    status: ImportStatus;
    format: ImportFormat;
    /** `''` for the platform's list (operators), an instance's id for its own (DOMAIN §7). */
    scope: string;
  },
  body: ReadableStream<Uint8Array> | null,
): Promise<ImportAnswer> {
  const answer: ImportAnswer = { received: 0, imported: 0, invalid: 0, errors: [] };
  const parse = input.format === "csv" ? parseCsvLine : parseNdjsonLine;
  // Within one statement an address may appear once (ON CONFLICT cannot touch a row twice): the
  // batch is keyed by address.
  let batch = new Map<string, string | null>();
  let lines = 0;
  let firstLine = true;

  const fail = (line: number, address: string | null, error: string) => {
    answer.invalid++;
    if (answer.errors.length < MAX_REPORTED) answer.errors.push({ line, address, error });
  };
  const take = (line: { number: number; text: string; tooLong: boolean }) => {
    if (line.text.trim() === "") return;
    if (firstLine) {
      firstLine = false;
      // An optional CSV header names the first column `address`.
      if (input.format === "csv" && csvFields(line.text)?.[0]?.trim().toLowerCase() === "address") {
        return;
      }
    }
    answer.received++;
    if (line.tooLong) {
      return fail(line.number, line.text, `line longer than ${MAX_LINE} characters`);
    }
    const parsed = parse(line.text);
    if ("error" in parsed) return fail(line.number, parsed.address, parsed.error);
    // A line that cannot be stored fails alone, never its batch (NUL, lone surrogate).
    const dirty = textProblem(parsed.address, "token") ??
      (parsed.comment && textProblem(parsed.comment));
    if (dirty) return fail(line.number, parsed.address, dirty);
    const check = normalizeAddress(input.channel, parsed.address);
    if (!check.ok) return fail(line.number, parsed.address, check.error);
    if (parsed.comment && parsed.comment.length > MAX_COMMENT) {
      return fail(line.number, parsed.address, `comment longer than ${MAX_COMMENT} characters`);
    }
    // As across batches (the upsert's coalesce): a later line's comment wins, a line without one keeps it.
    const comment = parsed.comment ?? batch.get(check.address) ?? null;
    batch.set(check.address, comment);
    lines++;
  };
  const flush = async () => {
    if (batch.size === 0) return;
    const rows = Array.from(batch, ([a, c]) => ({ a, c }));
    batch = new Map();
    const at = new Date(deps.now()).toISOString();
    await execute(
      deps.database,
      plans.importAddresses(input.channel, input.scope, input.status, rows, at),
    );
    answer.imported += lines;
    lines = 0;
  };

  const splitter = new LineSplitter();
  if (body) {
    // The default decoder drops a leading BOM (spreadsheet exports) and replaces bad bytes. (Its
    // writable side is typed BufferSource, wider than the body's Uint8Array: same bytes.)
    const decoder = new TextDecoderStream() as ReadableWritablePair<string, Uint8Array>;
    for await (const chunk of body.pipeThrough(decoder)) {
      for (const line of splitter.push(chunk)) {
        take(line);
        if (batch.size >= IMPORT_BATCH) await flush();
      }
    }
  }
  for (const line of splitter.end()) take(line);
  await flush();
  return answer;
}
