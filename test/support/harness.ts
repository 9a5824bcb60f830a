import process from "node:process";
import { afterAll, beforeAll, describe } from "vitest";
import type { Database } from "@sendgate/db";
import { type App, createApp } from "@sendgate/gateway";
import { parseAllowList } from "@sendgate/channels";
import type { Logger } from "../../apps/gateway/src/log.ts";
import { createKey } from "../../apps/gateway/src/services/keys.ts";
import { scratchDatabase } from "./scratch-database.ts";

export interface Backend {
  name: "postgres" | "pglite";
  /** A fresh, migrated, empty database of its own. */
  open(): Promise<{ database: Database; drop(): Promise<void> }>;
}

/** PostgreSQL: one database per test file on DATABASE_URL's server; PGlite: one in memory. */
const postgresBackend: Backend = { name: "postgres", open: () => scratchDatabase("postgres") };
const pgliteBackend: Backend = { name: "pglite", open: () => scratchDatabase("pglite") };

/**
 * The backends a shared suite runs against. PostgreSQL needs DATABASE_URL; in CI (CI=true) its
 * absence is an error, never a silent skip.
 */
export function backends(): Backend[] {
  if (process.env.DATABASE_URL) return [postgresBackend, pgliteBackend];
  if (process.env.CI) {
    throw new Error("DATABASE_URL must be set in CI: the PostgreSQL suite may not be skipped");
  }
  console.warn(
    "DATABASE_URL is not set: the PostgreSQL half of the suite is skipped (PGlite only)",
  );
  return [pgliteBackend];
}

/** A Response whose JSON is untyped: tests read the fields they assert on. */
// deno-lint-ignore no-explicit-any
export type TestResponse = Omit<Response, "json"> & { json(): Promise<any> };

export interface Suite {
  app: App;
  database: Database;
  /** An operator key (instance "ops"). */
  operatorKey: string;
  /** Instance keys, made on first use: `key("a")`, `key("b")`. */
  key(instance: string): Promise<string>;
  /** `app.request` with the key and a JSON body. */
  call(
    method: string,
    path: string,
    options?: {
      key?: string | null;
      json?: unknown;
      body?: string | ReadableStream<Uint8Array>;
      headers?: Record<string, string>;
    },
  ): Promise<TestResponse>;
}

/**
 * One contract suite run against every backend (drizzle-orm style): `describeBackends("x", (s) =>
 * { it(..., async () => { const { app } = s(); ... }) })`.
 */
export function describeBackends(
  name: string,
  body: (suite: () => Suite) => void,
  appOptions: {
    rateLimit?: { perSecond: number; burst: number };
    maxBodyBytes?: number;
    /** Host resolution for push endpoints; default: every name fails to resolve (no DNS here). */
    resolve?: (host: string) => Promise<string[]>;
    /** SENDGATE_PUSH_ALLOW's syntax. */
    pushAllow?: string;
    logger?: Logger;
    /** Deliveries allowed to send at once (what `waiting` explains against). */
    maxRunning?: number;
  } = {},
): void {
  for (const backend of backends()) {
    describe(`${name} [${backend.name}]`, () => {
      let suite: Suite | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const opened = await backend.open();
        drop = opened.drop;
        const database = opened.database;
        const allow = parseAllowList(appOptions.pushAllow ?? "");
        if (!allow.ok) throw new Error(allow.error);
        const app = createApp({
          database,
          rateLimit: appOptions.rateLimit ?? { perSecond: 10_000, burst: 10_000 },
          ...(appOptions.maxBodyBytes ? { maxBodyBytes: appOptions.maxBodyBytes } : {}),
          resolve: appOptions.resolve ?? (() => Promise.reject(new Error("no DNS in tests"))),
          pushAllow: allow.allow,
          ...(appOptions.logger ? { logger: appOptions.logger } : {}),
          ...(appOptions.maxRunning !== undefined ? { maxRunning: appOptions.maxRunning } : {}),
        });
        const operatorKey = (await createKey(database, "ops", true)).key;
        const keys = new Map<string, string>();
        suite = {
          app,
          database,
          operatorKey,
          async key(instance) {
            if (!keys.has(instance)) {
              keys.set(instance, (await createKey(database, instance, false)).key);
            }
            return keys.get(instance)!;
          },
          call(method, path, options = {}) {
            const headers: Record<string, string> = { ...options.headers };
            const key = options.key === undefined ? operatorKey : options.key;
            if (key) headers.authorization = `Bearer ${key}`;
            let body = options.body;
            if (options.json !== undefined) {
              body = JSON.stringify(options.json);
              headers["content-type"] ??= "application/json";
            }
            const init: RequestInit & { duplex?: "half" } = { method, headers };
            if (body !== undefined) init.body = body;
            if (body instanceof ReadableStream) init.duplex = "half";
            return Promise.resolve(app.request(path, init));
          },
        };
      }, 60_000);
      afterAll(async () => {
        await drop?.();
      }, 60_000);
      body(() => suite!);
    });
  }
}
