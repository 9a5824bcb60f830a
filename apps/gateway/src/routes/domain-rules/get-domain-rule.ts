import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { getDomainRule } from "../../services/domain-rules.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { DomainRule } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/domain-rules/{id}",
  tags: ["domain-rules"],
  summary: "One domain rule",
  middleware: [requireOperator],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: DomainRule } }, description: "The rule" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await getDomainRule(deps, c.req.valid("param").id), 200));
}
