// `npm run gateway`: starts the gateway on PostgreSQL (DATABASE_URL) or embedded PGlite.
import process from "node:process";
import { loadConfig } from "./config.ts";
import { startGateway } from "./server.ts";

const config = loadConfig();
const gateway = await startGateway(config);
const storage = gateway.database.kind === "postgres" ? "PostgreSQL" : `PGlite in ${config.dataDir}`;
console.log(`Sendgate gateway on ${gateway.url} (${storage})`);
console.log(`  API reference  ${gateway.url}/docs   (OpenAPI: ${gateway.url}/openapi.json)`);
console.log(
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
