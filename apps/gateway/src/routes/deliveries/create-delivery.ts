import type { App, AppDeps } from "../../deps.ts";
import { createDelivery } from "../../services/deliveries.ts";
import {
  defineRoute,
  errorResponses,
  IdempotencyHeader,
  idempotencyOf,
  NoQuery,
  replayHeaders,
  tooLarge,
  unprocessable,
  unsupportedMediaType,
} from "../common.ts";
import { CreateDelivery, Delivery } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/deliveries",
  tags: ["deliveries"],
  summary: "Create a delivery (one channel, one message template); add recipients with parts",
  request: {
    query: NoQuery,
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: CreateDelivery } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: Delivery } }, description: "Created" },
    200: {
      content: { "application/json": { schema: Delivery } },
      description: "Replayed: the first answer for this Idempotency-Key",
    },
    ...errorResponses,
    ...tooLarge,
    ...unsupportedMediaType,
    ...unprocessable,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const { body, replayed } = await createDelivery(
      deps,
      c.get("principal"),
      input,
      idempotencyOf(c.req.valid("header"), "create delivery", input),
    );
    return c.json(body, replayed ? 200 : 201, replayHeaders(replayed));
  });
}
