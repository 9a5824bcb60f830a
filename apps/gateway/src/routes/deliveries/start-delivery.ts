import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { cancelDelivery, resumeDelivery, startDelivery } from "../../services/deliveries.ts";
import { conflict, defineRoute, errorResponses, notFound } from "../common.ts";
import { Delivery } from "./schemas.ts";

const start = defineRoute({
  method: "post",
  path: "/v1/deliveries/{id}/start",
  tags: ["deliveries"],
  summary: "Start sending (parts may still be added while it runs)",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: Delivery } }, description: "Running" },
    ...errorResponses,
    ...notFound,
    ...conflict,
  },
});

const resume = defineRoute({
  method: "post",
  path: "/v1/deliveries/{id}/resume",
  tags: ["deliveries"],
  summary: "Resume a delivery the gateway paused (push 401/403), once its cause is fixed",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { content: { "application/json": { schema: Delivery } }, description: "Not paused" },
    ...errorResponses,
    ...notFound,
    ...conflict,
  },
});

const cancel = defineRoute({
  method: "post",
  path: "/v1/deliveries/{id}/cancel",
  tags: ["deliveries"],
  summary: "Cancel: messages not yet handed to a sender become cancelled",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: {
      content: {
        "application/json": { schema: Delivery.extend({ cancelledMessages: z.number().int() }) },
      },
      description: "Cancelled",
    },
    ...errorResponses,
    ...notFound,
    ...conflict,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    start,
    async (c) =>
      c.json(await startDelivery(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
  app.openapi(
    resume,
    async (c) =>
      c.json(await resumeDelivery(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
  app.openapi(
    cancel,
    async (c) =>
      c.json(await cancelDelivery(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
}
