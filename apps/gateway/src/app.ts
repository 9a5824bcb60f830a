import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import type { Database } from "@sendgate/db";
import { VERSION } from "@sendgate/core";
import type { AllowList } from "@sendgate/channels";
import { createCachedResolver } from "@sendgate/channels";
import { type AppEnv, authenticate, rateLimit } from "./auth.ts";
import type { App, AppDeps } from "./deps.ts";
import { ApiError, fieldErrors, type ProblemCode, problemResponse, problems } from "./errors.ts";
import { errorFields, type Logger, silentLogger, sqlErrorOf } from "./log.ts";
import { registerRoutes } from "./routes/index.ts";
import { registerUnsubscribe } from "./routes/unsubscribe.ts";
import { ServiceError } from "./services/errors.ts";
import { docsPage } from "./docs.ts";
import type { Principal } from "./services/keys.ts";

export type { App, AppDeps } from "./deps.ts";

export interface AppOptions {
  database: Database;
  rateLimit?: { perSecond: number; burst: number };
  maxBodyBytes?: number;
  /** The clock, in epoch ms (tests pass their own). */
  now?: () => number;
  /** Where requests and errors are logged; default: nowhere (the server passes its logger). */
  logger?: Logger;
  /** Push endpoints allowed although on a private network (default: none). */
  pushAllow?: AllowList;
  /** Host name resolution for the push endpoint check (default: DNS, cached a minute). */
  resolve?: (host: string) => Promise<string[]>;
  /** Serve the REST API (default); a dispatcher-only process answers /health and /ready only. */
  api?: boolean;
  /** Deliveries allowed to send at once (default 10), to explain waits the same way. */
  maxRunning?: number;
  /** The embedded database's lock token: an operator for the key routes (see `authenticate`). */
  localToken?: { token: string; principal: () => Promise<Principal> };
}

/** A service's refusal as the problem it is over HTTP: the one mapping, exhaustive. */
function fromService(error: ServiceError): ApiError {
  switch (error.code) {
    case "notFound":
    case "conflict":
    case "idempotencyMismatch":
      return new ApiError(error.code, error.message);
    case "invalid":
      return new ApiError("validation", error.message, [...error.fields]);
  }
}

/** Problem codes by HTTP status, for errors raised by Hono itself (HTTPException). */
const byStatus = new Map<number, ProblemCode>(
  (Object.entries(problems) as [ProblemCode, { status: number }][])
    .filter(([code]) => code !== "validation")
    .map(([code, p]) => [p.status, code]),
);

/**
 * SQL states that mean a value reached the database unchecked (class 22, data exception; 54,
 * program limit exceeded): the request is at fault, so a 400, but the route should have named the
 * field, so it is also logged as a bug to fix.
 */
const isDataException = (state: string | undefined) =>
  state !== undefined && (state.startsWith("22") || state.startsWith("54"));

/** Routes whose body is read as a stream, in batches, never held whole: no size limit. */
const STREAMED = new Set(["/v1/quarantine/import", "/v1/suppressions/import"]);

/** Builds the gateway's HTTP app: /health, /ready, /openapi.json, /docs, and the /v1 API. */
export function createApp(options: AppOptions): App {
  const logger = options.logger ?? silentLogger();
  const auth = authenticate(
    options.database,
    options.localToken ? { local: options.localToken } : {},
  );
  const deps: AppDeps = {
    database: options.database,
    now: options.now ?? Date.now,
    logger,
    pushAllow: options.pushAllow ?? [],
    resolve: options.resolve ?? createCachedResolver(),
    forgetKey: auth.forget,
    maxRunning: options.maxRunning ?? 10,
  };
  const app = new OpenAPIHono<AppEnv>({
    // Every validation failure names each failing field path (RFC 9457 problem+json).
    defaultHook: (result, c) => {
      if (!result.success) {
        const where = result.target === "json" ? "" : result.target;
        return problemResponse(
          c,
          new ApiError(
            "validation",
            "the request has invalid fields",
            fieldErrors(result.error.issues, where),
          ),
        );
      }
    },
  });

  // A request id on every answer (the caller's X-Request-Id when sane), and one log line per
  // request: the route pattern, never the path (it can hold an address).
  app.use("*", requestId({ limitLength: 64 }));
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    logger.info({
      requestId: c.get("requestId"),
      method: c.req.method,
      route: routePath(c, -1),
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    }, "request");
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return problemResponse(c, error);
    if (error instanceof ServiceError) return problemResponse(c, fromService(error));
    if (error instanceof HTTPException) {
      const code = byStatus.get(error.status) ?? (error.status < 500 ? "malformed" : "internal");
      return problemResponse(c, new ApiError(code, error.message || problems[code].title));
    }
    if (error instanceof SyntaxError) {
      return problemResponse(c, new ApiError("malformed", "the body is not JSON"));
    }
    const sql = sqlErrorOf(error);
    if (isDataException(sql?.code)) {
      logger.warn(
        { requestId: c.get("requestId"), route: routePath(c, -1), ...errorFields(error) },
        "a value reached the database unchecked",
      );
      return problemResponse(
        c,
        new ApiError("validation", `a value cannot be stored (SQL state ${sql!.code})`),
      );
    }
    logger.error(
      { requestId: c.get("requestId"), route: routePath(c, -1), ...errorFields(error) },
      "unhandled error",
    );
    return problemResponse(
      c,
      new ApiError(
        "internal",
        `internal error (request ${c.get("requestId")}); see the gateway's log`,
      ),
    );
  });
  app.notFound((c) =>
    problemResponse(
      c,
      new ApiError("notFound", `no route ${c.req.method} ${new URL(c.req.url).pathname}`),
    )
  );

  app.get("/health", (c) => c.json({ status: "ok", version: VERSION }));
  app.get("/ready", async (c) => {
    const { migrationsApplied } = await import("@sendgate/db");
    try {
      const ready = await migrationsApplied(deps.database);
      if (ready) return c.json({ status: "ready", database: deps.database.kind });
      return problemResponse(c, new ApiError("unavailable", "database migrations are not applied"));
    } catch (error) {
      logger.warn({ requestId: c.get("requestId"), ...errorFields(error) }, "database unreachable");
      return problemResponse(c, new ApiError("unavailable", "database unreachable"));
    }
  });

  const limit = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const limitBody = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new ApiError("tooLarge", `the body is over ${limit} bytes`);
    },
  });
  app.use(
    "/v1/*",
    (c, next) => (STREAMED.has(c.req.path) ? next() : limitBody(c, next)),
  );
  // Provider callbacks carry no API key (so no per-key rate limit either): each is signed with
  // its provider's secret, which their route checks.
  const keyed = (mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> => (c, next) =>
    c.req.path.startsWith("/v1/callbacks/") ? next() : mw(c, next);
  app.use("/v1/*", keyed(auth.middleware));
  const rl = options.rateLimit ?? { perSecond: 100, burst: 200 };
  app.use("/v1/*", keyed(rateLimit(rl.perSecond, rl.burst)));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });

  if (options.api ?? true) {
    registerRoutes(app, deps);
    registerUnsubscribe(app, deps);
  } else {
    app.use("/v1/*", () => {
      throw new ApiError("notFound", "this process runs the dispatcher only (SENDGATE_ROLES)");
    });
  }

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Sendgate",
      version: VERSION,
      description: "Delivery gateway for campaign platforms: email, SMS and web push.",
    },
    security: [{ bearer: [] }],
  });
  app.get(
    "/docs",
    (c) =>
      c.html(
        docsPage(
          app.getOpenAPI31Document({
            openapi: "3.1.0",
            info: { title: "Sendgate", version: VERSION },
          }),
        ),
      ),
  );
  return app;
}
