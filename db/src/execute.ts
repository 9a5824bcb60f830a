import type { SQL } from "drizzle-orm";
import type { Database, Db } from "./index.ts";

/** A transaction of the gateway's database (drizzle's, whichever driver is under it). */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Where a plan runs: the database, its drizzle handle, or a transaction. */
export type Executor = Database | Db | Tx;

/** drizzle's postgres.js session, found by what it holds: the postgres.js client. */
const onPostgresJs = (db: Db) =>
  typeof (db._.session as unknown as { client?: { unsafe?: unknown } }).client?.unsafe ===
    "function";

/**
 * Runs a plan (a named query of `plans.ts`) and answers its rows, the same shape on both drivers
 * (postgres.js answers an array, PGlite `{ rows }`): the one execute method the services use, as
 * pg-boss keeps its SQL in one plans module behind one `executeSql`.
 *
 * On PostgreSQL a plan runs as a prepared statement. drizzle's `execute` asks postgres.js for an
 * unnamed one, and postgres.js then describes every query with parameters before binding it:
 * two round trips per statement, and a parse and plan on the server each time. A plan's text
 * does not change between calls (its values are parameters), so each connection parses it once
 * and every later call is one Bind/Execute round trip.
 */
export async function execute<T = Record<string, unknown>>(on: Executor, plan: SQL): Promise<T[]> {
  const db = ("db" in on && "kind" in on ? on.db : on) as Db;
  if (onPostgresJs(db)) {
    const query = db.execute(plan).getQuery();
    // A name makes drizzle ask postgres.js for a prepared statement (which postgres.js names and
    // caches per connection by the query's text itself).
    return (await db._.session.prepareQuery(query, undefined, "plan", false).execute()) as T[];
  }
  const result = await db.execute(plan);
  return Array.isArray(result) ? (result as T[]) : (result as unknown as { rows: T[] }).rows;
}

/** A PostgreSQL unique violation (23505), as postgres.js or PGlite (wrapped by drizzle) report it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | null;
  return e?.code === "23505" || e?.cause?.code === "23505";
}
