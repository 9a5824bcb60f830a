import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { deleteRule } from "../../services/rules.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { ReadOnly } from "./schemas.ts";

const route = defineRoute({
  method: "delete",
  path: "/v1/rules/{id}",
  tags: ["rules"],
  summary: "Delete an operator rule",
  middleware: [requireOperator],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
    ...ReadOnly,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    await deleteRule(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
