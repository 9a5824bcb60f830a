import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Database } from "@sendgate/db";
import { VERSION } from "@sendgate/core";
import { type AppEnv, authenticate, rateLimit } from "./auth.ts";
import { ApiError, fieldErrors, problemResponse } from "./errors.ts";
import { registerRoutes } from "./routes/index.ts";
import { docsPage } from "./docs.ts";

export interface AppOptions {
  database: Database;
  rateLimit?: { perSecond: number; burst: number };
  maxBodyBytes?: number;
  /** The clock, in epoch ms (tests pass their own). */
  now?: () => number;
}

export interface AppDeps {
  database: Database;
  now: () => number;
}

export type App = OpenAPIHono<AppEnv>;

/** Builds the gateway's HTTP app: /health, /ready, /openapi.json, /docs, and the /v1 API. */
export function createApp(options: AppOptions): App {
  const deps: AppDeps = { database: options.database, now: options.now ?? Date.now };
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

  app.onError((error, c) => {
    if (error instanceof ApiError) return problemResponse(c, error);
    if (error instanceof SyntaxError) {
      return problemResponse(c, new ApiError("malformed", error.message));
    }
    const status = (error as { status?: number }).status;
    if (status === 400) return problemResponse(c, new ApiError("malformed", error.message));
    console.error("sendgate: unhandled error", error);
    return problemResponse(c, new ApiError("internal", "internal error; see the gateway's log"));
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
      return problemResponse(
        c,
        new ApiError("unavailable", `database unreachable: ${(error as Error).message}`),
      );
    }
  });

  const limit = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const limitBody = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new ApiError("tooLarge", `the body is over ${limit} bytes`);
    },
  });
  // A suppression list import is streamed in batches, never held whole: it has no size limit.
  app.use(
    "/v1/*",
    (c, next) => (c.req.path === "/v1/quarantine/import" ? next() : limitBody(c, next)),
  );
  app.use("/v1/*", authenticate(deps.database));
  const rl = options.rateLimit ?? { perSecond: 100, burst: 200 };
  app.use("/v1/*", rateLimit(rl.perSecond, rl.burst));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });

  registerRoutes(app, deps);

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
