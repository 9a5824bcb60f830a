import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import {
  type DataDirLock,
  lockDataDir,
  onDiskDataDir,
  prepareDataDir,
  restrictPermissions,
} from "./data-dir.ts";
import * as schema from "./schema/index.ts";

export * from "./data-dir.ts";
export * from "./schema/index.ts";
export { schema };

/** The drizzle database, whichever driver is under it (postgres.js or PGlite). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly kind: "postgres" | "pglite";
  /** Raw SQL returning rows, the same shape on both drivers. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  /**
   * The single-writer lock on the data directory, held from open to `close()`; only on PGlite on
   * disk. A gateway records where it listens with `lock.update({ url, token })`, so that a
   * command-line tool finding the directory in use (`readLock`) can use its API instead.
   */
  readonly lock?: DataDirLock;
  /**
   * Runs `fn` holding a cluster-wide lock (a PostgreSQL advisory lock, on a connection of its own):
   * processes starting together on one server migrate one after the other. PGlite has one process.
   */
  readonly exclusive?: <T>(key: number, fn: () => Promise<T>) => Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory (default `./data`); `memory://` keeps it in memory. */
  dataDir?: string | undefined;
  /** postgres.js pool size (default 10). */
  max?: number;
  /** Names this process in the data directory's lock (default: the script's file name). */
  command?: string;
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
    // A server that does not answer fails the start in seconds, not postgres.js's 30.
    const client = postgres(options.url, {
      max: options.max ?? 10,
      connect_timeout: 10,
      onnotice: () => {},
    });
    const db = drizzle(client, { schema }) as unknown as Db;
    return {
      db,
      kind: "postgres",
      rows: async <T>(query: SQL) => rowsOf<T>(await db.execute(query)),
      exclusive: async <T>(key: number, fn: () => Promise<T>): Promise<T> => {
        // Its own connection, so that a pool of one cannot wait on itself; the lock goes with it.
        const holder = postgres(options.url!, { max: 1, connect_timeout: 10, onnotice: () => {} });
        try {
          await holder`select pg_advisory_lock(${key})`;
          return await fn();
        } finally {
          await holder.end({ timeout: 5 });
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const dataDir = options.dataDir ?? "./data";
  // In memory there is nothing another process could open, so neither lock nor permissions.
  const dir = onDiskDataDir(dataDir);
  let lock: DataDirLock | undefined;
  if (dir) {
    prepareDataDir(dir);
    lock = lockDataDir(dir, { command: options.command ?? defaultCommand() });
  }
  let client: InstanceType<typeof PGlite> | undefined;
  try {
    client = new PGlite(dir ?? dataDir);
    await client.waitReady;
    if (dir) restrictPermissions(dir);
  } catch (error) {
    await client?.close().catch(() => {});
    lock?.release();
    throw error;
  }
  const opened = client;
  const db = drizzle(opened, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    rows: async <T>(query: SQL) => rowsOf<T>(await db.execute(query)),
    ...(lock ? { lock } : {}),
    // Released even if closing fails: the handle is unusable either way, and holding the lock
    // until exit would keep every other process out of the directory.
    close: async () => {
      try {
        await opened.close();
        if (dir) restrictPermissions(dir);
      } finally {
        lock?.release();
      }
    },
  };
}

// What the user started, e.g. `keys.ts` or `main.ts`, to name the holder in a refusal.
function defaultCommand(): string {
  const script = process.argv[1];
  return script ? path.basename(script) : path.basename(process.execPath);
}

/** Applies the committed migrations (idempotent). */
/** The advisory lock key migrations hold on PostgreSQL ("sendgate" in ASCII, as an int). */
const MIGRATION_LOCK = 0x73656e64;

export async function migrate(database: Database): Promise<void> {
  if (database.kind === "postgres") {
    const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
    const apply = () => run(database.db as never, { migrationsFolder });
    await (database.exclusive ? database.exclusive(MIGRATION_LOCK, apply) : apply());
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
export { execute, type Executor, isUniqueViolation, type Tx } from "./execute.ts";
export * as plans from "./plans.ts";
export type {
  AddressRow,
  CounterDelta,
  DomainFlowRow,
  EmailReportRow,
  EntryRow,
  EventRow,
  Hold,
  NewInboundRow,
  NewMessageRow,
  NewReportRow,
  ReportRow,
  TransitionRow,
} from "./plans.ts";
