import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { replaceDomainRule } from "../../services/domain-rules.ts";
import { conflict, defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { DomainRule, DomainRuleBody } from "./schemas.ts";

const route = defineRoute({
  method: "put",
  path: "/v1/domain-rules/{id}",
  tags: ["domain-rules"],
  summary: "Replace a domain rule whole (a setting left out is inherited again)",
  middleware: [requireOperator],
  request: {
    params: z.object({ id: z.string() }),
    body: { content: { "application/json": { schema: DomainRuleBody } }, required: true },
  },
  responses: {
    200: {
      content: { "application/json": { schema: DomainRule } },
      description: "The rule as it now is",
    },
    ...errorResponses,
    ...forbidden,
    ...notFound,
    409: { ...conflict[409], description: "Another rule has this domain" },
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    route,
    async (c) =>
      c.json(await replaceDomainRule(deps, c.req.valid("param").id, c.req.valid("json")), 200),
  );
}
