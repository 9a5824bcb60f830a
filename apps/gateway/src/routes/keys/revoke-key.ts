import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { revokeKey } from "../../services/keys.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { ApiKey } from "./schemas.ts";

const route = defineRoute({
  method: "delete",
  path: "/v1/keys/{id}",
  tags: ["keys"],
  summary: "Revoke an API key",
  description:
    "The key stops working at once on this gateway process, and within 5 seconds on the others (they cache " +
    "verified keys that long). The key's row is kept with its revocation date.",
  middleware: [requireOperator],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: ApiKey } }, description: "Revoked" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const revoked = await revokeKey(deps.database, c.req.valid("param").id, deps.now());
    deps.forgetKey(revoked.id);
    return c.json(revoked, 200);
  });
}
