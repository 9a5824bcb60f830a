import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "@sendgate/db";
import type { AllowList } from "@sendgate/channels";
import type { AppEnv } from "./auth.ts";
import type { Logger } from "./log.ts";

/**
 * What routes and services are given. In a module of its own so that routes, services and the app
 * that registers them do not import each other.
 */
export interface AppDeps {
  database: Database;
  /** The clock, in epoch ms. */
  now: () => number;
  logger: Logger;
  /** Push endpoints: hosts and networks allowed although private (SENDGATE_PUSH_ALLOW). */
  pushAllow: AllowList;
  /** Resolves a host name for the push endpoint check (cached; tests pass their own). */
  resolve: (host: string) => Promise<string[]>;
  /** Deliveries allowed to send at once, cluster-wide (DOMAIN §3; the dispatchers' setting). */
  maxRunning: number;
  /** Forget cached verifications of a revoked key, in this process. */
  forgetKey: (keyId: string) => void;
}

export type App = OpenAPIHono<AppEnv>;
