import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { getRule } from "../../services/rules.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { Rule } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/rules/{id}",
  tags: ["rules"],
  summary: "One rule, of either layer",
  middleware: [requireOperator],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: Rule } }, description: "The rule" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await getRule(deps, c.req.valid("param").id), 200));
}
