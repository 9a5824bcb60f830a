import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listRules } from "../../services/rules.ts";
import { defineRoute, errorResponses, forbidden } from "../common.ts";
import { ChannelName, Rule } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/rules",
  tags: ["rules"],
  summary: "Qualification rules of both layers, in matching order (operator layer first)",
  middleware: [requireOperator],
  request: {
    query: z.object({
      layer: z.enum(["shipped", "operator"]).optional(),
      channel: ChannelName.optional(),
    }),
  },
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(Rule) }) } },
      description: "The rules",
    },
    ...errorResponses,
    ...forbidden,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await listRules(deps, c.req.valid("query")), 200));
}
