// `npm run db:migrate`: applies the committed migrations to DATABASE_URL, or to PGlite in
// SENDGATE_DATA_DIR (default ./data) when DATABASE_URL is not set.
import process from "node:process";
import { migrate, openDatabase } from "./index.ts";

const database = await openDatabase({
  url: process.env.DATABASE_URL,
  dataDir: process.env.SENDGATE_DATA_DIR,
});
await migrate(database);
console.log(`migrations applied (${database.kind})`);
await database.close();
