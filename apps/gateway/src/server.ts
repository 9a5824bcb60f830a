import { randomBytes } from "node:crypto";
import { serve } from "@hono/node-server";
import { type Database, DataDirLockedError, migrate, openDatabase } from "@sendgate/db";
import { createApp } from "./app.ts";
import { type Config, redactUrl, StartupError } from "./config.ts";
import { createLogger, errorFields, type Logger } from "./log.ts";
import { bootstrapKey, ensureInstance } from "./services/keys.ts";
import { syncShippedRules } from "./services/rules.ts";
import { loadChannelSettings, putChannel } from "./services/channel-settings.ts";
import { loadProviders, putProvider } from "./services/sms-providers.ts";
import { type RunningBounceListener, startBounceListener } from "./bounce-listener.ts";
import { type ChannelRegistry, createChannelRegistry } from "./dispatcher/channels.ts";
import { type RunningDispatcher, startDispatcher } from "./dispatcher/dispatcher.ts";

/**
 * Channels configured from the environment when they have no settings yet (SENDGATE_EMAIL_RELAY,
 * SENDGATE_SMPP_URL, SENDGATE_VAPID_SUBJECT): a first start needs no API call, and settings an operator changed
 * later are not overwritten at the next start.
 */
async function bootstrapChannels(database: Database, config: Config, logger: Logger) {
  const have = new Set((await loadChannelSettings(database)).map((c) => c.channel));
  const deps = { database, now: Date.now };
  if (config.emailRelay && !have.has("email")) {
    const u = new URL(config.emailRelay);
    const insecure = u.searchParams.has("insecure");
    await putChannel(deps, {
      channel: "email",
      settings: {
        mode: "relay",
        relay: {
          host: u.hostname.replace(/^\[(.*)\]$/u, "$1"),
          port: Number(u.port),
          secure: u.protocol === "smtps:",
          ...(insecure ? { tlsRejectUnauthorized: false } : {}),
          ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
          ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
        },
        bounceDomain: config.bounceDomain,
        ...(config.publicUrl
          ? { unsubscribeBaseUrl: `${config.publicUrl.replace(/\/$/u, "")}/u/` }
          : {}),
      },
    });
    logger.info({ channel: "email" }, "channel configured from the environment");
  }
  if (config.smppUrl && (await loadProviders(database)).length === 0) {
    const u = new URL(config.smppUrl);
    const number = (name: string) => {
      const v = u.searchParams.get(name);
      return v !== null && /^\d+$/u.test(v) ? { [name]: Number(v) } : {};
    };
    await putProvider(deps, "default", {
      host: u.hostname.replace(/^\[(.*)\]$/u, "$1"),
      port: Number(u.port),
      systemId: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      ...number("binds"),
      ...number("window"),
    });
    logger.info(
      { channel: "sms", provider: "default" },
      "SMS provider configured from the environment",
    );
  }
  if (config.vapidSubject && !have.has("push")) {
    await putChannel(deps, { channel: "push", settings: { subject: config.vapidSubject } });
    logger.info({ channel: "push" }, "channel configured from the environment");
  }
}

export interface RunningGateway {
  url: string;
  /** The bounce listener's `smtp://host:port`, when SENDGATE_BOUNCE_LISTEN started one. */
  bounceUrl?: string;
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
      // A connection refused mid-way is a reach problem; anything else is the migration's own.
      /^E[A-Z]+$|CONNECT/u.test(code(error) ?? "")
        ? `cannot reach the database at ${where} (${code(error)})`
        : `cannot migrate the database at ${where}: ${(error as Error).message}${
          code(error) ? ` (${code(error)})` : ""
        }`,
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
    await bootstrapChannels(database, config, logger);
    const app = createApp({
      database,
      logger,
      api: config.roles.has("api"),
      maxRunning: config.maxRunning,
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
    logger.info({ url, database: database.kind, roles: [...config.roles] }, "gateway listening");
    let dispatcher: RunningDispatcher | null = null;
    let registry: ChannelRegistry | null = null;
    if (config.roles.has("dispatcher")) {
      registry = createChannelRegistry({ database, logger, pushAllow: config.pushAllow });
      await registry.refresh();
      dispatcher = startDispatcher({
        database,
        logger,
        channels: () => registry!.plans(),
        receiptIdFormat: (provider) => registry!.receiptIdFormat(provider),
        affinities: config.affinities,
        maxRunning: config.maxRunning,
        leaseMs: config.leaseSeconds * 1000,
      });
    }
    let bounces: RunningBounceListener | null = null;
    if (config.bounceListen) {
      let cached: { at: number; domains: string[] } | null = null;
      bounces = await startBounceListener({
        database,
        logger,
        host: config.bounceListen.host,
        port: config.bounceListen.port,
        // The email channel's bounce domain (it may change), else the configured default.
        domains: async () => {
          if (cached && Date.now() - cached.at < 5_000) return cached.domains;
          const email = (await loadChannelSettings(database)).find((c) => c.channel === "email");
          const domains = [email?.settings.bounceDomain ?? config.bounceDomain];
          cached = { at: Date.now(), domains };
          return domains;
        },
      }).catch(async (error: NodeJS.ErrnoException) => {
        // What this start already opened is closed again before the error goes up.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await dispatcher?.stop();
        await registry?.close();
        throw error.code === "EADDRINUSE" || error.code === "EACCES" ||
            error.code === "EADDRNOTAVAIL"
          ? new StartupError(
            "SENDGATE_BOUNCE_LISTEN",
            `cannot listen on ${config.bounceListen!.host}:${
              config.bounceListen!.port
            } (${error.code})`,
          )
          : error;
      });
      logger.info({ url: bounces.url }, "bounce listener listening");
    }
    return {
      url,
      ...(bounces ? { bounceUrl: bounces.url } : {}),
      database,
      logger,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await bounces?.close();
        await dispatcher?.stop();
        await registry?.close();
        await database.close();
        logger.flush();
      },
    };
  } catch (error) {
    await database.close().catch((e) => logger.error(errorFields(e), "closing the database"));
    throw error;
  }
}
