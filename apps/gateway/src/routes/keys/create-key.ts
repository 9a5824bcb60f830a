import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { createKey } from "../../services/keys.ts";
import { idempotent } from "../../services/idempotency.ts";
import {
  defineRoute,
  errorResponses,
  forbidden,
  IdempotencyHeader,
  idempotencyOf,
  replayHeaders,
  unprocessable,
  unsupportedMediaType,
} from "../common.ts";
import { CreateKey, NewKey } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/keys",
  tags: ["keys"],
  summary: "Create an API key for an instance; the key is in this answer only",
  description:
    "Works while the gateway runs, on PostgreSQL as on the embedded database (`npm run keys -- create` uses this " +
    "route when a gateway holds the data directory). Only the key's SHA-256 hash is stored.",
  middleware: [requireOperator],
  request: {
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: CreateKey } }, required: true },
  },
  responses: {
    201: { content: { "application/json": { schema: NewKey } }, description: "Created" },
    200: {
      content: { "application/json": { schema: NewKey } },
      description: "Replayed (Idempotency-Key): the key's metadata, without the key",
    },
    ...errorResponses,
    ...forbidden,
    ...unsupportedMediaType,
    ...unprocessable,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const { body, replayed } = await idempotent(
      deps.database,
      c.get("principal").instanceId,
      idempotencyOf(c.req.valid("header"), "create key", input),
      async (tx) => {
        const { instanceId: _, ...created } = await createKey(tx, input.instance, input.operator);
        return { status: 201, body: created };
      },
      // The key itself is never stored: a replay answers without it.
      ({ key: _, ...metadata }) => metadata,
    );
    return c.json(body, replayed ? 200 : 201, replayHeaders(replayed));
  });
}
