import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listKeys } from "../../services/keys.ts";
import { defineRoute, errorResponses, forbidden } from "../common.ts";
import { ApiKey, InstanceName } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/keys",
  tags: ["keys"],
  summary: "API keys (never the keys themselves), oldest first",
  middleware: [requireOperator],
  request: { query: z.object({ instance: InstanceName.optional() }) },
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(ApiKey) }) } },
      description: "The keys",
    },
    ...errorResponses,
    ...forbidden,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await listKeys(deps.database, c.req.valid("query")), 200));
}
