import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { replaceRule } from "../../services/rules.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { ReadOnly, ReplaceRule, Rule } from "./schemas.ts";

const route = defineRoute({
  method: "put",
  path: "/v1/rules/{id}",
  tags: ["rules"],
  summary:
    "Replace an operator rule (shipped rules are read-only: add an operator rule to override one)",
  middleware: [requireOperator],
  request: {
    params: z.object({ id: z.string() }),
    body: { content: { "application/json": { schema: ReplaceRule } }, required: true },
  },
  responses: {
    200: {
      content: { "application/json": { schema: Rule } },
      description: "The rule as it now is",
    },
    ...errorResponses,
    ...forbidden,
    ...notFound,
    ...ReadOnly,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    route,
    async (c) => c.json(await replaceRule(deps, c.req.valid("param").id, c.req.valid("json")), 200),
  );
}
