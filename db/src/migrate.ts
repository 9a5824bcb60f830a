// `npm run db:migrate`: applies the committed migrations to DATABASE_URL, or to PGlite in
// SENDGATE_DATA_DIR (default ./data) when DATABASE_URL is not set. On the embedded database it
// needs the directory to itself: with a gateway running, the gateway has already migrated it.
import process from "node:process";
import { DataDirLockedError, migrate, openDatabase } from "./index.ts";

const database = await openDatabase({
  url: process.env.DATABASE_URL,
  dataDir: process.env.SENDGATE_DATA_DIR,
  command: "db:migrate",
}).catch((error: unknown) => {
  if (!(error instanceof DataDirLockedError)) throw error;
  console.error(error.message);
  process.exit(1);
});
await migrate(database);
console.log(`migrations applied (${database.kind})`);
await database.close();
