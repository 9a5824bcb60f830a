import process from "node:process";
import { z } from "zod";

/**
 * The gateway's configuration, read from the environment once at start. On a bad value it
 * prints every problem and exits; nothing else reads `process.env`.
 */
const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  SENDGATE_DATA_DIR: z.string().min(1).default("./data"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SENDGATE_ADMIN_KEY: z.string().min(24, "use at least 24 characters").optional(),
  SENDGATE_ADMIN_INSTANCE: z.string().min(1).default("admin"),
  /** Requests per second allowed per API key, and the burst above it. */
  SENDGATE_RATE_LIMIT: z.coerce.number().positive().default(100),
  SENDGATE_RATE_BURST: z.coerce.number().int().positive().default(200),
  /** Largest request body accepted, in bytes (a 10,000-recipient part with fields fits). */
  SENDGATE_MAX_BODY_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
});

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  adminKey: string | undefined;
  adminInstance: string;
  rateLimit: { perSecond: number; burst: number };
  maxBodyBytes: number;
};

export function parseConfig(
  env: Record<string, string | undefined>,
): { ok: true; config: Config } | { ok: false; errors: string[] } {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  const e = parsed.data;
  return {
    ok: true,
    config: {
      databaseUrl: e.DATABASE_URL,
      dataDir: e.SENDGATE_DATA_DIR,
      host: e.HOST,
      port: e.PORT,
      adminKey: e.SENDGATE_ADMIN_KEY,
      adminInstance: e.SENDGATE_ADMIN_INSTANCE,
      rateLimit: { perSecond: e.SENDGATE_RATE_LIMIT, burst: e.SENDGATE_RATE_BURST },
      maxBodyBytes: e.SENDGATE_MAX_BODY_BYTES,
    },
  };
}

/** Reads the environment; prints what is wrong and exits on a bad value. */
export function loadConfig(): Config {
  const result = parseConfig(process.env);
  if (!result.ok) {
    console.error(`sendgate: invalid configuration:\n  ${result.errors.join("\n  ")}`);
    process.exit(2);
  }
  return result.config;
}
