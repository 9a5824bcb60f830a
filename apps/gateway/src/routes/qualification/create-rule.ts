import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { createRule } from "../../services/rules.ts";
import {
  conflict,
  defineRoute,
  errorResponses,
  forbidden,
  IdempotencyHeader,
  idempotencyOf,
  replayHeaders,
  unprocessable,
  unsupportedMediaType,
} from "../common.ts";
import { CreateRule, Rule } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/rules",
  tags: ["rules"],
  summary: "Add an operator rule (matched before every shipped rule of its channel)",
  description:
    "The pattern must compile when `regex` is true, and the (type, reason) pair must be one the reasons table " +
    "allows. Without an id, one is made (`op-…`).",
  middleware: [requireOperator],
  request: {
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: CreateRule } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: Rule } }, description: "Created" },
    200: {
      content: { "application/json": { schema: Rule } },
      description: "Replayed: the first answer for this Idempotency-Key",
    },
    ...unsupportedMediaType,
    ...unprocessable,
    ...errorResponses,
    ...forbidden,
    ...conflict,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const { body, replayed } = await createRule(
      deps,
      input,
      c.get("principal").instanceId,
      idempotencyOf(c.req.valid("header"), "create rule", input),
    );
    return c.json(body, replayed ? 200 : 201, replayHeaders(replayed));
  });
}
