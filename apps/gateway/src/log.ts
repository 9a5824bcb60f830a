import { pino } from "pino";

/**
 * The gateway's logger (pino, one JSON object per line). What goes in is chosen, never dumped:
 * an entry names the request, the route pattern (not the path, which can hold an address), the
 * error's class and SQL state or failing field, and never a statement's parameters, a body, an
 * address, a key or a hash. Every string is cut, so an entry stays small whatever failed.
 */
export type Logger = pino.Logger;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export function createLogger(
  options: { level?: LogLevel; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    { level: options.level ?? "info", base: { service: "sendgate-gateway" } },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing (tests, tools). */
export const silentLogger = (): Logger => pino({ level: "silent" });

const MAX_TEXT = 200;
const MAX_FRAMES = 6;
const cut = (s: string, max = MAX_TEXT) => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The fields of a PostgreSQL error that describe it without holding any value. */
interface SqlErrorFields {
  code?: string;
  severity?: string;
  routine?: string;
  constraint?: string;
  constraint_name?: string;
  table?: string;
  table_name?: string;
  column?: string;
  column_name?: string;
}

/** The PostgreSQL error behind a driver's or drizzle's wrapper, if there is one. */
export function sqlErrorOf(error: unknown): SqlErrorFields | null {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/u.test(e.code)) return e as SqlErrorFields;
    e = e.cause as typeof e;
  }
  return null;
}

/**
 * What is logged of an error: its class, and for a database error its SQL state, routine and the
 * names of the constraint, table and column involved, never its message (PostgreSQL and the
 * drivers put values, the whole statement and its parameters there). Other errors keep a cut
 * message (they are the gateway's own) and the first frames of the stack.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  const e = error as Error;
  const fields: Record<string, unknown> = {
    errorClass: cut(e?.constructor?.name ?? typeof error, 60),
  };
  const sql = sqlErrorOf(error);
  if (sql) {
    fields.sqlState = sql.code;
    if (sql.routine) fields.sqlRoutine = cut(sql.routine, 60);
    const constraint = sql.constraint ?? sql.constraint_name;
    const table = sql.table ?? sql.table_name;
    const column = sql.column ?? sql.column_name;
    if (constraint) fields.constraint = cut(constraint, 63);
    if (table) fields.table = cut(table, 63);
    if (column) fields.column = cut(column, 63);
  } else if (typeof e?.message === "string") {
    fields.message = cut(e.message);
  }
  if (typeof e?.stack === "string") {
    // Frames only: the stack begins with the message, which may span lines (drizzle's holds the
    // statement and its parameters).
    fields.stack = e.stack.split("\n").map((line) => line.trim()).filter((line) =>
      line.startsWith("at ")
    ).slice(0, MAX_FRAMES).map((line) => cut(line));
  }
  return fields;
}
