import { createRoute } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { requireOperator } from "../../auth.ts";
import { createRule } from "../../services/rules.ts";
import { conflict, errorResponses, forbidden } from "../common.ts";
import { CreateRule, Rule } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/rules",
  tags: ["rules"],
  summary: "Add an operator rule (matched before every shipped rule of its channel)",
  description:
    "The pattern must compile when `regex` is true, and the (type, reason) pair must be one the reasons table " +
    "allows. Without an id, one is made (`op-…`).",
  middleware: [requireOperator],
  request: { body: { content: { "application/json": { schema: CreateRule } }, required: true } },
  responses: {
    201: { content: { "application/json": { schema: Rule } }, description: "Created" },
    ...errorResponses,
    ...forbidden,
    ...conflict,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await createRule(deps, c.req.valid("json")), 201));
}
