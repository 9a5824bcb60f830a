import { serve } from "@hono/node-server";
import { type Database, migrate, openDatabase } from "@sendgate/db";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { bootstrapKey } from "./services/keys.ts";
import { syncShippedRules } from "./services/rules.ts";

export interface RunningGateway {
  url: string;
  database: Database;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations, refreshes the shipped qualification rules, registers
 * the admin key, and serves the API.
 */
export async function startGateway(config: Config): Promise<RunningGateway> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await migrate(database);
  // The shipped rule layer follows the code's; operator rules are never touched.
  await syncShippedRules(database);
  if (config.adminKey) await bootstrapKey(database, config.adminInstance, config.adminKey);
  const app = createApp({
    database,
    rateLimit: config.rateLimit,
    maxBodyBytes: config.maxBodyBytes,
  });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    database,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}
