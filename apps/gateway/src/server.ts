import { randomBytes } from "node:crypto";
import { serve } from "@hono/node-server";
import { type Database, DataDirLockedError, migrate, openDatabase } from "@sendgate/db";
import { createApp } from "./app.ts";
import { type Config, redactUrl, StartupError } from "./config.ts";
import { createLogger, errorFields, type Logger } from "./log.ts";
import { bootstrapKey, ensureInstance } from "./services/keys.ts";
import { syncShippedRules } from "./services/rules.ts";

export interface RunningGateway {
  url: string;
  database: Database;
  logger: Logger;
  close(): Promise<void>;
}

const code = (error: unknown) =>
  (error as { code?: string; cause?: { code?: string } }).code ??
    (error as { cause?: { code?: string } }).cause?.code;

/** Opens the database, naming the variable to change when it cannot. */
async function open(config: Config): Promise<Database> {
  let database: Database;
  try {
    database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      command: "gateway",
    });
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new StartupError("SENDGATE_DATA_DIR", error.message);
    }
    if (config.databaseUrl) {
      throw new StartupError(
        "DATABASE_URL",
        `cannot open ${redactUrl(config.databaseUrl)}: ${code(error) ?? (error as Error).message}`,
      );
    }
    throw new StartupError(
      "SENDGATE_DATA_DIR",
      `cannot open the embedded database in ${config.dataDir}: ${
        code(error) ?? (error as Error).message
      }`,
    );
  }
  try {
    await migrate(database);
    return database;
  } catch (error) {
    await database.close().catch(() => {});
    const where = config.databaseUrl ? redactUrl(config.databaseUrl) : config.dataDir;
    throw new StartupError(
      config.databaseUrl ? "DATABASE_URL" : "SENDGATE_DATA_DIR",
      `cannot reach the database at ${where} (${code(error) ?? (error as Error).message})`,
    );
  }
}

/**
 * Opens the database, applies migrations, refreshes the shipped qualification rules, registers
 * the admin key, and serves the API. On the embedded database, the data directory's lock file then
 * names where the gateway listens and a token for its key routes, so that `npm run keys` can use
 * the running gateway instead of opening the directory a second time.
 */
export async function startGateway(
  config: Config,
  options: { logger?: Logger } = {},
): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const database = await open(config);
  try {
    // The shipped rule layer follows the code's; operator rules are never touched.
    await syncShippedRules(database);
    if (config.adminKey) await bootstrapKey(database, config.adminInstance, config.adminKey);
    const token = database.lock ? `sgl_${randomBytes(32).toString("base64url")}` : null;
    const app = createApp({
      database,
      logger,
      rateLimit: config.rateLimit,
      maxBodyBytes: config.maxBodyBytes,
      pushAllow: config.pushAllow,
      ...(token
        ? {
          localToken: {
            token,
            principal: async () => ({
              keyId: "local",
              instanceId: await ensureInstance(database, config.adminInstance),
              operator: true,
            }),
          },
        }
        : {}),
    });
    const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", () => resolve());
      server.once("error", (error: NodeJS.ErrnoException) => {
        const where = `${config.host}:${config.port}`;
        reject(
          error.code === "EADDRINUSE"
            ? new StartupError("PORT", `${where} is already in use (another gateway?)`)
            : error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND"
            ? new StartupError(
              "HOST",
              `cannot listen on ${config.host}: not an address of this machine`,
            )
            : error.code === "EACCES"
            ? new StartupError("PORT", `not allowed to listen on ${where}`)
            : error,
        );
      });
    });
    const address = server.address() as { address: string; port: number };
    const host = address.address.includes(":") ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    // Where a local tool reaches this gateway: loopback when it listens on every address.
    const local = `http://${
      address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "[::1]" : host
    }:${address.port}`;
    if (token) database.lock!.update({ url: local, token });
    logger.info({ url, database: database.kind }, "gateway listening");
    return {
      url,
      database,
      logger,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await database.close();
        logger.flush();
      },
    };
  } catch (error) {
    await database.close().catch((e) => logger.error(errorFields(e), "closing the database"));
    throw error;
  }
}
