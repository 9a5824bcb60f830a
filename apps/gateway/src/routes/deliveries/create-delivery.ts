import { createRoute } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { createDelivery } from "../../services/deliveries.ts";
import { errorResponses, tooLarge } from "../common.ts";
import { CreateDelivery, Delivery } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/deliveries",
  tags: ["deliveries"],
  summary: "Create a delivery (one channel, one message template); add recipients with parts",
  request: {
    body: { content: { "application/json": { schema: CreateDelivery } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: Delivery } }, description: "Created" },
    ...errorResponses,
    ...tooLarge,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    route,
    async (c) => c.json(await createDelivery(deps, c.get("principal"), c.req.valid("json")), 201),
  );
}
