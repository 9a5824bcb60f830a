import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { getDelivery } from "../../services/deliveries.ts";
import { defineRoute, errorResponses, notFound } from "../common.ts";
import { Delivery } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/deliveries/{id}",
  tags: ["deliveries"],
  summary: "A delivery with its message counters by status and by failure reason",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: Delivery } }, description: "The delivery" },
    ...errorResponses,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    route,
    async (c) => c.json(await getDelivery(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
}
