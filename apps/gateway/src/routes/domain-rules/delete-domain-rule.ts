import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { deleteDomainRule } from "../../services/domain-rules.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";

const route = defineRoute({
  method: "delete",
  path: "/v1/domain-rules/{id}",
  tags: ["domain-rules"],
  summary: "Delete a domain rule (its domain falls back to wider rules)",
  middleware: [requireOperator],
  request: { params: z.object({ id: z.string() }) },
  responses: { 204: { description: "Deleted" }, ...errorResponses, ...forbidden, ...notFound },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    await deleteDomainRule(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
