// `npm run gateway`: starts the gateway on PostgreSQL (DATABASE_URL) or embedded PGlite.
import process from "node:process";
import { loadConfig, StartupError } from "./config.ts";
import { startGateway } from "./server.ts";

const config = loadConfig();
const gateway = await startGateway(config).catch((error: unknown) => {
  // What the user can fix is said in one line naming the variable; anything else is a bug.
  if (error instanceof StartupError) console.error(`sendgate: ${error.variable}: ${error.message}`);
  else console.error("sendgate: the gateway could not start:", error);
  process.exit(1);
});
const storage = gateway.database.kind === "postgres" ? "PostgreSQL" : `PGlite in ${config.dataDir}`;
console.error(`Sendgate gateway on ${gateway.url} (${storage})`);
console.error(`  API reference  ${gateway.url}/docs   (OpenAPI: ${gateway.url}/openapi.json)`);
console.error(
  config.adminKey
    ? `  operator key   the SENDGATE_ADMIN_KEY you set (instance "${config.adminInstance}")`
    : `  keys           npm run keys -- create --instance NAME [--operator]   (or set SENDGATE_ADMIN_KEY)`,
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await gateway.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
