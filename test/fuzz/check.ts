import process from "node:process";
import type { Case } from "./cases.ts";
import { type Fingerprint, matches, type World } from "./world.ts";

/**
 * The invariant of every case, whatever was sent: a well-formed answer under 500, problem+json
 * for every error, JSON that parses for every JSON success, no promise rejected unhandled, and
 * nothing written by a call the gateway refused.
 */
export type FailureKind =
  | "server-error"
  | "not-problem-json"
  | "bad-json"
  | "unhandled-rejection"
  | "write-by-refused-call"
  | "logged-error"
  | "logged-warning"
  | "threw"
  | "timeout"
  /** The fuzzer itself failed to make a case: a bug here, reported as loudly as one there. */
  | "generator";

export interface Failure {
  kind: FailureKind;
  status: number;
  /** What was wrong, for the report: the server's logged error, the tables written… */
  detail: string;
  /**
   * Reported, not failed: a warning the gateway logged about itself under an answer that met the
   * invariant ("a value reached the database unchecked" is a failure: a field went unnamed).
   */
  note?: boolean;
}

export interface Outcome {
  status: number;
  contentType: string;
  body: string;
  failures: Failure[];
  ms: number;
}

const CASE_TIMEOUT_MS = 20_000;

/** Errors the gateway logged and rejections nobody handled, while a case runs. */
export class Collector {
  logged: unknown[][] = [];
  rejections: unknown[] = [];
  private readonly original = console.error;
  private readonly onRejection = (reason: unknown) => {
    this.rejections.push(reason);
  };

  install(): void {
    // The gateway has no logger option: its `app.onError` writes to console.error, which is
    // where the cause of a 500 is. Kept per case, not printed (a run has thousands).
    console.error = (...args: unknown[]) => {
      this.logged.push(args);
    };
    process.on("unhandledRejection", this.onRejection);
  }

  uninstall(): void {
    console.error = this.original;
    process.off("unhandledRejection", this.onRejection);
  }

  reset(): void {
    this.logged = [];
    this.rejections = [];
  }
}

/** The first line of an error and of its causes, with the gateway frame it came from. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split("\n")[0]!.slice(0, 300);
  const chain: string[] = [];
  let e: unknown = error;
  for (let i = 0; e instanceof Error && i < 4; i++) {
    // drizzle's "Failed query: <sql>" says which query; its cause says why: keep the cause.
    const line = `${e.name}: ${e.message.split("\n")[0]}`;
    if (!/^Error: Failed query/u.test(line)) chain.push(line.slice(0, 240));
    e = (e as { cause?: unknown }).cause;
  }
  // Where it was thrown, and the first frame of our own code on the way (when not the same).
  const frames = (error.stack ?? "").split("\n").filter((l) => /^\s+at /u.test(l));
  const short = (l: string) =>
    l.trim().replace(/^at /u, "").replace(/\S*\/(node_modules|apps|packages|db)\//u, "$1/");
  const ours = frames.find((l) => /\/(apps|packages|db)\//u.test(l) && !l.includes("node_modules"));
  const where = [frames[0], ours].filter((l, i, all): l is string => !!l && all.indexOf(l) === i)
    .map(short);
  const at = where.length ? ` (at ${where.join(", via ")})` : "";
  return (chain.join(" ← ") || `${error.name}: ${error.message}`) + at;
}

/** Names of the SQL states a fuzzer meets (PostgreSQL, appendix A). */
const SQL_STATES: Record<string, string> = {
  "22001": "string_data_right_truncation",
  "22003": "numeric_value_out_of_range",
  "22007": "invalid_datetime_format",
  "22008": "datetime_field_overflow",
  "22021": "character_not_in_repertoire",
  "22023": "invalid_parameter_value",
  "22025": "invalid_escape_sequence",
  "22P02": "invalid_text_representation",
  "22P05": "untranslatable_character",
  "2201B": "invalid_regular_expression",
  "54000": "program_limit_exceeded",
  "54001": "statement_too_complex",
  "23505": "unique_violation",
  "23503": "foreign_key_violation",
  "40001": "serialization_failure",
};

interface LogEntry {
  level: number;
  msg?: string;
  errorClass?: string;
  sqlState?: string;
  sqlRoutine?: string;
  column?: string;
  table?: string;
  constraint?: string;
  message?: string;
  stack?: string[];
  route?: string;
}

/** One gateway log line as a cause: message, error class, SQL state and where it was thrown. */
export function describeLog(e: LogEntry): string {
  const parts = [e.msg ?? "(no message)"];
  if (e.errorClass) parts.push(e.errorClass);
  if (e.sqlState) {
    const where = [e.table, e.column].filter(Boolean).join(".");
    parts.push(
      `[SQL ${e.sqlState} ${SQL_STATES[e.sqlState] ?? ""}${
        e.sqlRoutine ? ` in ${e.sqlRoutine}` : ""
      }` +
        `${where ? ` on ${where}` : ""}${e.constraint ? ` (${e.constraint})` : ""}]`,
    );
  }
  if (e.message) parts.push(e.message.split("\n")[0]!);
  const frames = (e.stack ?? []).map((l) =>
    l.replace(/^at /u, "").replace(/\S*\/(node_modules|apps|packages|db)\//u, "$1/")
  );
  const ours = frames.find((l) => /^(apps|packages|db)\//u.test(l.replace(/^.*\(/u, "")));
  const where = [frames[0], ours].filter((l, i, all): l is string => !!l && all.indexOf(l) === i);
  return parts.join(": ") + (where.length ? ` (at ${where.join(", via ")})` : "");
}

function parseLogs(lines: string[]): LogEntry[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogEntry];
    } catch {
      return [{ level: 50, msg: `unparsable log line: ${line.slice(0, 200)}` }];
    }
  });
}

function loggedCause(logged: unknown[][]): string {
  for (const args of logged) {
    const error = args.find((a) => a instanceof Error);
    if (error) return describeError(error);
  }
  return logged.length
    ? logged.map((a) => a.map(String).join(" ")).join(" | ").slice(0, 300)
    : "(nothing logged)";
}

/** Runs cases one by one against a world, keeping the database's fingerprint between them. */
export class Checker {
  private mark = "";
  private print: Fingerprint = new Map();
  /** Rows in the application tables at the last fingerprint. */
  rows = 0;
  fingerprints = 0;

  constructor(readonly world: World, readonly collector: Collector) {}

  async init(): Promise<void> {
    this.mark = await this.world.writeMark();
    const f = await this.world.fingerprint();
    this.print = f.state;
    this.rows = f.rows;
  }

  async run(c: Case): Promise<Outcome> {
    const { world, collector } = this;
    collector.reset();
    world.logs.length = 0;
    const failures: Failure[] = [];
    const started = performance.now();
    let status = 0;
    let contentType = "";
    let text = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), CASE_TIMEOUT_MS);
    });
    try {
      const init: RequestInit = { method: c.method, headers: c.headers };
      if (c.body !== undefined) init.body = c.body as NonNullable<RequestInit["body"]>;
      const answered = await Promise.race([
        (async () => {
          const res = await world.app.request(c.path, init);
          return { res, text: await res.text() };
        })(),
        timeout,
      ]);
      if (answered === "timeout") {
        failures.push({ kind: "timeout", status: 0, detail: `no answer in ${CASE_TIMEOUT_MS} ms` });
      } else {
        status = answered.res.status;
        contentType = answered.res.headers.get("content-type") ?? "";
        text = answered.text;
      }
    } catch (error) {
      failures.push({ kind: "threw", status: 0, detail: describeError(error) });
    } finally {
      clearTimeout(timer);
    }
    // A rejection is reported after the microtasks of its turn: give it two turns to show.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));

    // The gateway's log, when it has one (the `logger` option); console.error otherwise.
    const entries = parseLogs(world.logs);
    const errors = entries.filter((e) => e.level >= 50);
    if (status >= 500) {
      const detail = errors.length ? describeLog(errors[0]!) : loggedCause(collector.logged);
      failures.push({ kind: "server-error", status, detail });
    } else if (errors.length) {
      failures.push({ kind: "logged-error", status, detail: describeLog(errors[0]!) });
    } else if (collector.logged.some((a) => /unhandled/iu.test(a.map(String).join(" ")))) {
      failures.push({ kind: "logged-error", status, detail: loggedCause(collector.logged) });
    }
    for (const w of entries.filter((e) => e.level >= 40 && e.level < 50)) {
      // A value that reached the database unchecked was answered 400 by the safety net, but the
      // route should have named the field: that is a failure of validation, not a note.
      const unchecked = /unchecked/u.test(String(w.msg ?? ""));
      failures.push({
        kind: "logged-warning",
        status,
        detail: describeLog(w),
        ...(unchecked ? {} : { note: true }),
      });
    }
    let parsed: unknown;
    const headless = c.method === "HEAD";
    if (status >= 400 && !headless) {
      const problem = problemDefect(status, contentType, text);
      if (problem) failures.push({ kind: "not-problem-json", status, detail: problem });
    } else if (status >= 200 && status < 300 && /json/iu.test(contentType) && !headless) {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        failures.push({ kind: "bad-json", status, detail: (error as Error).message });
      }
    }
    for (const reason of collector.rejections) {
      failures.push({ kind: "unhandled-rejection", status, detail: describeError(reason) });
    }

    // Nothing written by a refused call: the transaction counter first, the hashes if it moved.
    const mark = await world.writeMark();
    if (mark !== this.mark) {
      const f = await world.fingerprint();
      this.fingerprints++;
      if (status >= 400 || status === 0) {
        // sms_callbacks is the callback route's log: a refused provider callback is recorded
        // there on purpose (issue 9: "refused … and recorded"); nothing else may change.
        const changed = [...f.state].filter(([t, v]) => this.print.get(t) !== v).map(([t]) => t)
          .filter((t) => t !== "sms_callbacks");
        if (changed.length) {
          failures.push({
            kind: "write-by-refused-call",
            status,
            detail: `changed: ${changed.join(", ")}`,
          });
        }
      }
      this.mark = mark;
      this.print = f.state;
      this.rows = f.rows;
      if (await world.healKeys()) await this.init();
    }

    // What answered feeds the pools: the operation the method and path reached, which is not
    // the case's own when its method was mutated (a GET case sent as DELETE deletes too).
    const routed = c.method === c.op.method && !c.tags.some((t) => t.startsWith("path-shape:"))
      ? c.op
      : world.operations.find((o) => o.method === c.method && matches(o.template, c.path));
    if (routed && status >= 200 && status < 300) {
      const owner = c.key ?? "instance";
      if (parsed !== undefined) world.pools.harvest(routed, owner, parsed);
      if (c.method === "DELETE") {
        for (const t of c.tuples) world.pools.forget(t.collection, t.names, t.values);
      }
      for (const p of routed.headerParams) {
        const v = c.headers[p.name];
        if (v) world.pools.rememberHeader(p.name, v);
      }
    }
    return { status, contentType, body: text, failures, ms: performance.now() - started };
  }
}

/** What is wrong with an error answer as RFC 9457 problem+json, or null. */
export function problemDefect(status: number, contentType: string, text: string): string | null {
  if (!/^application\/problem\+json\b/iu.test(contentType)) {
    return `content-type ${JSON.stringify(contentType)}, not application/problem+json`;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `body is not JSON: ${(error as Error).message}`;
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return "body is not an object";
  const p = body as Record<string, unknown>;
  if (p.status !== status) return `status field ${JSON.stringify(p.status)} ≠ HTTP ${status}`;
  if (typeof p.type !== "string") return "no string `type`";
  if (typeof p.title !== "string") return "no string `title`";
  if (p.errors !== undefined) {
    const ok = Array.isArray(p.errors) &&
      p.errors.every((e) =>
        e && typeof e === "object" && typeof (e as { path?: unknown }).path === "string" &&
        typeof (e as { message?: unknown }).message === "string"
      );
    if (!ok) return "`errors` is not an array of {path, message}";
  }
  return null;
}
