import type { MiddlewareHandler } from "hono";
import type { Database } from "@sendgate/db";
import { ApiError } from "./errors.ts";
import { type Principal, verifyKey } from "./services/keys.ts";

export type AppEnv = { Variables: { principal: Principal } };

/**
 * `Authorization: Bearer <key>` on every /v1 call. Verified keys are cached for a few seconds so
 * that a busy caller costs one lookup, not one per request; a revoked key stops working within
 * that time.
 */
export function authenticate(database: Database, cacheMs = 5_000): MiddlewareHandler<AppEnv> {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/iu.exec(header);
    if (!match) {
      throw new ApiError("unauthorized", "send the API key as `Authorization: Bearer <key>`");
    }
    const key = match[1]!;
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
