import process from "node:process";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Database, migrate, openDatabase } from "@sendgate/db";

/**
 * A fresh, migrated, empty database of its own, for a test file or a benchmark: on PostgreSQL a
 * new database on DATABASE_URL's server (dropped by `drop`), on PGlite one in memory.
 */
export async function scratchDatabase(
  kind: "postgres" | "pglite",
  prefix = "sendgate_t",
): Promise<{ database: Database; drop(): Promise<void> }> {
  if (kind === "pglite") {
    const database = await openDatabase({ dataDir: "memory://" });
    await migrate(database);
    return { database, drop: () => database.close() };
  }
  const scratch = await scratchDatabaseUrl(prefix);
  const database = await openDatabase({ url: scratch.url, max: 10 });
  await migrate(database);
  return {
    database,
    async drop() {
      await database.close();
      await scratch.drop();
    },
  };
}

/**
 * An empty PostgreSQL database of its own on DATABASE_URL's server, for processes the test starts
 * (they migrate it themselves): its URL, and how to drop it.
 */
export async function scratchDatabaseUrl(
  prefix = "sendgate_p",
): Promise<{ url: string; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("a PostgreSQL scratch database needs DATABASE_URL");
  const admin = await openDatabase({ url, max: 1 });
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await admin.rows(sql.raw(`create database ${name}`));
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.href,
    async drop() {
      await admin.rows(sql.raw(`drop database if exists ${name} with (force)`));
      await admin.close();
    },
  };
}
