import { isIP } from "node:net";
import process from "node:process";
import { z } from "zod";
import { type AllowList, parseAllowList } from "@sendgate/channels";
import { LOG_LEVELS, type LogLevel } from "./log.ts";

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/u;

/**
 * The gateway's configuration, read from the environment once at start. On a bad value it
 * prints every problem, each naming its variable, and exits; nothing else reads `process.env`.
 */
const schema = z.object({
  DATABASE_URL: z.string().url().refine(
    (url) => URL.canParse(url) && /^postgres(?:ql)?:$/u.test(new URL(url).protocol),
    "a PostgreSQL URL (postgres://user@host:5432/database); unset for the embedded database",
  ).optional(),
  SENDGATE_DATA_DIR: z.string().min(1).default("./data"),
  HOST: z.string().min(1).refine(
    (host) => isIP(host.replace(/^\[(.*)\]$/u, "$1")) !== 0 || HOSTNAME.test(host),
    "a host name or an IP address to listen on (127.0.0.1, ::1, 0.0.0.0 …)",
  ).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SENDGATE_ADMIN_KEY: z.string().min(24, "use at least 24 characters").regex(
    /^[\x21-\x7e]+$/u,
    "printable ASCII without spaces",
  ).optional(),
  SENDGATE_ADMIN_INSTANCE: z.string().min(1).max(100).default("admin"),
  /** Requests per second allowed per API key, and the burst above it. */
  SENDGATE_RATE_LIMIT: z.coerce.number().positive().default(100),
  SENDGATE_RATE_BURST: z.coerce.number().int().positive().default(200),
  /** Largest request body accepted, in bytes (a 10,000-recipient part with fields fits). */
  SENDGATE_MAX_BODY_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  SENDGATE_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  /** What this process does: the REST API, the dispatcher, or both. */
  SENDGATE_ROLES: z.string().default("api,dispatcher").transform((spec, ctx) => {
    const roles = spec.split(",").map((r) => r.trim()).filter(Boolean);
    const bad = roles.filter((r) => r !== "api" && r !== "dispatcher");
    if (bad.length || roles.length === 0) {
      ctx.addIssue({ code: "custom", message: "api, dispatcher or both, comma-separated" });
      return z.NEVER;
    }
    return new Set(roles as ("api" | "dispatcher")[]);
  }),
  /** Named sender pools this dispatcher serves. */
  SENDGATE_AFFINITIES: z.string().default("").transform((spec) =>
    spec.split(",").map((a) => a.trim()).filter(Boolean)
  ),
  /** Deliveries that may send at once, cluster-wide (DOMAIN §3). */
  SENDGATE_MAX_RUNNING: z.coerce.number().int().min(1).max(10_000).default(10),
  /**
   * How long a dispatcher holds the messages it claimed: if it dies, another one claims them
   * again after this. Longer than a batch takes to send (its timeouts), shorter than a user waits.
   */
  SENDGATE_LEASE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  /**
   * Bootstraps the email channel when it has no settings yet: `smtp://[user:pass@]host:port`
   * (STARTTLS when offered) or `smtps://…` (TLS), `?insecure` to accept a self-signed certificate.
   */
  SENDGATE_EMAIL_RELAY: z.string().url().refine(
    (u) => URL.canParse(u) && /^smtps?:$/u.test(new URL(u).protocol) && new URL(u).port !== "",
    "smtp://host:port or smtps://host:port (user:password@ optional)",
  ).optional(),
  /**
   * Bootstraps an SMS provider `default` when no provider is configured yet:
   * `smpp://system_id:password@host:port` (`?binds=N&window=N` optional), every number.
   */
  SENDGATE_SMPP_URL: z.string().url().refine(
    (u) =>
      URL.canParse(u) && new URL(u).protocol === "smpp:" && new URL(u).port !== "" &&
      new URL(u).username !== "",
    "smpp://system_id:password@host:port",
  ).optional(),
  SENDGATE_BOUNCE_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/u, "a domain").default(
    "bounces.sendgate.localhost",
  ),
  /**
   * Where the bounce listener takes reports (SMTP, `host:port`, e.g. `0.0.0.0:25`); unset: no
   * listener (reports can still be imported). It accepts mail for the email channel's bounce
   * domain only.
   */
  SENDGATE_BOUNCE_LISTEN: z.string().regex(
    /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/u,
    "host:port (port 0: any free port)",
  ).optional(),
  /** The gateway's public URL (unsubscribe links); default: where it listens. */
  SENDGATE_PUBLIC_URL: z.string().url().refine((u) => /^https?:/u.test(u), "an http(s) URL")
    .optional(),
  /** Bootstraps the push channel when it has no settings yet (VAPID keys are generated). */
  SENDGATE_VAPID_SUBJECT: z.string().regex(
    /^(?:mailto:\S+@\S+|https:\/\/\S+)$/u,
    "a mailto: or https: URI",
  ).optional(),
  /** Push endpoints on these hosts or networks are allowed although private (and may be http). */
  SENDGATE_PUSH_ALLOW: z.string().default("").transform((spec, ctx) => {
    const parsed = parseAllowList(spec);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed.allow;
  }),
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
  logLevel: LogLevel;
  pushAllow: AllowList;
  roles: ReadonlySet<"api" | "dispatcher">;
  affinities: string[];
  maxRunning: number;
  leaseSeconds: number;
  emailRelay: string | undefined;
  smppUrl: string | undefined;
  bounceDomain: string;
  bounceListen: { host: string; port: number } | undefined;
  publicUrl: string | undefined;
  vapidSubject: string | undefined;
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
      host: e.HOST.replace(/^\[(.*)\]$/u, "$1"),
      port: e.PORT,
      adminKey: e.SENDGATE_ADMIN_KEY,
      adminInstance: e.SENDGATE_ADMIN_INSTANCE,
      rateLimit: { perSecond: e.SENDGATE_RATE_LIMIT, burst: e.SENDGATE_RATE_BURST },
      maxBodyBytes: e.SENDGATE_MAX_BODY_BYTES,
      logLevel: e.SENDGATE_LOG_LEVEL,
      pushAllow: e.SENDGATE_PUSH_ALLOW,
      roles: e.SENDGATE_ROLES,
      affinities: e.SENDGATE_AFFINITIES,
      maxRunning: e.SENDGATE_MAX_RUNNING,
      leaseSeconds: e.SENDGATE_LEASE_SECONDS,
      emailRelay: e.SENDGATE_EMAIL_RELAY,
      smppUrl: e.SENDGATE_SMPP_URL,
      bounceDomain: e.SENDGATE_BOUNCE_DOMAIN,
      bounceListen: e.SENDGATE_BOUNCE_LISTEN
        ? {
          host: e.SENDGATE_BOUNCE_LISTEN.slice(0, e.SENDGATE_BOUNCE_LISTEN.lastIndexOf(":"))
            .replace(/^\[(.*)\]$/u, "$1"),
          port: Number(
            e.SENDGATE_BOUNCE_LISTEN.slice(e.SENDGATE_BOUNCE_LISTEN.lastIndexOf(":") + 1),
          ),
        }
        : undefined,
      publicUrl: e.SENDGATE_PUBLIC_URL,
      vapidSubject: e.SENDGATE_VAPID_SUBJECT,
    },
  };
}

/** Reads the environment; prints what is wrong and exits on a bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = parseConfig(env);
  if (!result.ok) {
    console.error(`sendgate: invalid configuration:\n  ${result.errors.join("\n  ")}`);
    process.exit(2);
  }
  return result.config;
}

/** A URL as it can be printed: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.href;
  } catch {
    return "(not a URL)";
  }
}

/**
 * A start that failed for a reason the user can fix: it names the variable to change and is
 * printed without a stack trace.
 */
export class StartupError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
  }
}
