import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { createDomainRule } from "../../services/domain-rules.ts";
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
import { DomainRule, DomainRuleBody } from "./schemas.ts";

const route = defineRoute({
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
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: DomainRuleBody } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: DomainRule } }, description: "Created" },
    200: {
      content: { "application/json": { schema: DomainRule } },
      description: "Replayed: the first answer for this Idempotency-Key",
    },
    ...unsupportedMediaType,
    ...unprocessable,
    ...errorResponses,
    ...forbidden,
    409: { ...conflict[409], description: "A rule for this domain already exists" },
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const { body, replayed } = await createDomainRule(
      deps,
      input,
      c.get("principal").instanceId,
      idempotencyOf(c.req.valid("header"), "create domain rule", input),
    );
    return c.json(body, replayed ? 200 : 201, replayHeaders(replayed));
  });
}
