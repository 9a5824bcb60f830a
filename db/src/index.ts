import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema/index.ts";

export * from "./schema/index.ts";
export { schema };

/** The drizzle database, whichever driver is under it (postgres.js or PGlite). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly kind: "postgres" | "pglite";
  /** Raw SQL returning rows, the same shape on both drivers. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` (or undefined with `memory: true`) keeps it in memory. */
  dataDir?: string | undefined;
  /** postgres.js pool size (default 10). */
  max?: number;
}

/**
 * The rows of a raw `execute`: postgres.js answers an array, PGlite `{ rows }`. Also for results
 * of a transaction's `tx.execute`, which `Database.rows` cannot reach.
 */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

export const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Opens the database: PostgreSQL through postgres.js when a URL is given, otherwise embedded
 * PGlite (data directory from config, default `./data`). Same schema, same queries on both.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(options.url, { max: options.max ?? 10, onnotice: () => {} });
    const db = drizzle(client, { schema }) as unknown as Db;
    return {
      db,
      kind: "postgres",
      rows: async <T>(query: SQL) => rowsOf<T>(await db.execute(query)),
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const client = new PGlite(options.dataDir ?? "./data");
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    rows: async <T>(query: SQL) => rowsOf<T>(await db.execute(query)),
    close: () => client.close(),
  };
}

/** Applies the committed migrations (idempotent). */
export async function migrate(database: Database): Promise<void> {
  if (database.kind === "postgres") {
    const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
    await run(database.db as never, { migrationsFolder });
  } else {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    await run(database.db as never, { migrationsFolder });
  }
}

/** Whether every committed migration has been applied (readiness). */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const { readMigrationFiles } = await import("drizzle-orm/migrator");
  const expected = readMigrationFiles({ migrationsFolder }).length;
  try {
    const [row] = await database.rows<{ n: number }>(
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    return (row?.n ?? 0) >= expected;
  } catch {
    return false;
  }
}
