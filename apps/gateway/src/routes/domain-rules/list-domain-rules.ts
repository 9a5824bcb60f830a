import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listDomainRules } from "../../services/domain-rules.ts";
import { defineRoute, errorResponses, forbidden } from "../common.ts";
import { DomainRule } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/domain-rules",
  tags: ["domain-rules"],
  summary: "Flow-control rules per recipient domain, by domain",
  middleware: [requireOperator],
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(DomainRule) }) } },
      description: "The rules",
    },
    ...errorResponses,
    ...forbidden,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await listDomainRules(deps), 200));
}
