import type { SQL } from "drizzle-orm";
import type { Database, Db } from "./index.ts";

/** A transaction of the gateway's database (drizzle's, whichever driver is under it). */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Where a plan runs: the database, its drizzle handle, or a transaction. */
export type Executor = Database | Db | Tx;

/**
 * Runs a plan (a named query of `plans.ts`) and answers its rows, the same shape on both drivers
 * (postgres.js answers an array, PGlite `{ rows }`): the one execute method the services use, as
 * pg-boss keeps its SQL in one plans module behind one `executeSql`.
 */
export async function execute<T = Record<string, unknown>>(on: Executor, plan: SQL): Promise<T[]> {
  const db = "db" in on && "kind" in on ? on.db : on;
  const result = await (db as Db).execute(plan);
  return Array.isArray(result) ? (result as T[]) : (result as unknown as { rows: T[] }).rows;
}

/** A PostgreSQL unique violation (23505), as postgres.js or PGlite (wrapped by drizzle) report it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | null;
  return e?.code === "23505" || e?.cause?.code === "23505";
}
