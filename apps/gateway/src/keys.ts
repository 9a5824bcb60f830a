// `npm run keys -- create --instance NAME [--operator]`: prints a new API key (shown once).
import process from "node:process";
import { parseArgs } from "node:util";
import { migrate, openDatabase } from "@sendgate/db";
import { loadConfig } from "./config.ts";
import { createKey } from "./services/keys.ts";

const usage = "usage: npm run keys -- create --instance NAME [--operator]";
const { positionals, values } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { instance: { type: "string" }, operator: { type: "boolean", default: false } },
});
if (positionals[0] !== "create" || !values.instance) {
  console.error(usage);
  process.exit(2);
}
const config = loadConfig();
const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
await migrate(database);
const { key, prefix } = await createKey(database, values.instance, values.operator ?? false);
await database.close();
console.error(
  `created ${
    values.operator ? "operator" : "instance"
  } key ${prefix}… for instance "${values.instance}" (shown once, stored hashed):`,
);
console.log(key);
