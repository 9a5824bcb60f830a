import { createRoute } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { requireOperator } from "../../auth.ts";
import { createDomainRule } from "../../services/domain-rules.ts";
import { conflict, errorResponses, forbidden } from "../common.ts";
import { DomainRule, DomainRuleBody } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/domain-rules",
  tags: ["domain-rules"],
  summary:
    "Add a rule for a domain (`example.com`), its sub-domains (`*.example.com`) or every domain (`*`)",
  description:
    "The most specific rule applies first; a setting it leaves out comes from the `*` rule, then from the " +
    "built-in default (no rate limit; suspended 3 hours when 90% of at least 300 messages within an hour fail).",
  middleware: [requireOperator],
  request: {
    body: { content: { "application/json": { schema: DomainRuleBody } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: DomainRule } }, description: "Created" },
    ...errorResponses,
    ...forbidden,
    409: { ...conflict[409], description: "A rule for this domain already exists" },
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await createDomainRule(deps, c.req.valid("json")), 201));
}
