import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Database } from "@sendgate/db";
import { ApiError } from "./errors.ts";
import { type Principal, verifyKey } from "./services/keys.ts";

export type AppEnv = { Variables: { principal: Principal; requestId: string } };

export interface Authenticator {
  middleware: MiddlewareHandler<AppEnv>;
  /** Drops cached verifications of a key (revoked): it stops working in this process at once. */
  forget(keyId: string): void;
}

/**
 * `Authorization: Bearer <key>` on every /v1 call. Verified keys are cached for a few seconds so
 * that a busy caller costs one lookup, not one per request; a key revoked through this process is
 * dropped from the cache at once, one revoked through another within `cacheMs`. Unknown keys are
 * cached too (briefly), so a wrong key cannot make each request a database lookup.
 *
 * `local` is the token of the data directory's lock file (embedded database): it is an operator
 * principal for the key routes only, so that `npm run keys` can manage keys through the running
 * gateway. Whoever can read that file can read the database itself.
 */
export function authenticate(
  database: Database,
  options: { cacheMs?: number; local?: { token: string; principal: () => Promise<Principal> } } =
    {},
): Authenticator {
  const cacheMs = options.cacheMs ?? 5_000;
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/iu.exec(header);
    if (!match) {
      throw new ApiError("unauthorized", "send the API key as `Authorization: Bearer <key>`");
    }
    const key = match[1]!;
    if (
      options.local && c.req.path.startsWith("/v1/keys") && sameSecret(key, options.local.token)
    ) {
      c.set("principal", await options.local.principal());
      return await next();
    }
    const now = Date.now();
    let hit = cache.get(key);
    if (!hit || hit.until < now) {
      hit = { principal: await verifyKey(database, key), until: now + cacheMs };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, hit);
    }
    if (!hit.principal) throw new ApiError("unauthorized", "unknown or revoked API key");
    c.set("principal", hit.principal);
    await next();
  };
  return {
    middleware,
    forget(keyId) {
      for (const [key, hit] of cache) if (hit.principal?.keyId === keyId) cache.delete(key);
    },
  };
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const hash = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(hash(a), hash(b));
}

/** Operator routes (quarantine, qualification, rules): an instance key gets 403. */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("principal").operator) {
    throw new ApiError("forbidden", "this route needs an operator key");
  }
  await next();
};

/** Token bucket per API key, per gateway process: 429 with Retry-After past the burst. */
export function rateLimit(perSecond: number, burst: number): MiddlewareHandler<AppEnv> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const id = c.get("principal").keyId;
    const now = Date.now();
    const b = buckets.get(id) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (b.tokens < 1) {
      const wait = Math.ceil((1 - b.tokens) / perSecond);
      buckets.set(id, b);
      throw new ApiError(
        "rateLimited",
        `more than ${perSecond} requests per second for this key`,
        undefined,
        {
          "retry-after": String(Math.max(1, wait)),
        },
      );
    }
    b.tokens -= 1;
    buckets.set(id, b);
    await next();
  };
}
