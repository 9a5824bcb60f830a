import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { getMessage, listMessages } from "../../services/deliveries.ts";
import {
  Cursor,
  decodeCursor,
  encodeCursor,
  errorResponses,
  Limit,
  notFound,
  Page,
} from "../common.ts";
import { Message, MessageEvent, ReasonFilter, StatusFilter } from "./schemas.ts";

const list = createRoute({
  method: "get",
  path: "/v1/deliveries/{id}/messages",
  tags: ["messages"],
  summary: "A delivery's messages, filtered by status and reason",
  request: {
    params: z.object({ id: z.string() }),
    query: z.object({ status: StatusFilter, reason: ReasonFilter, cursor: Cursor, limit: Limit }),
  },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: Page(Message),
        },
      },
      description: "A page",
    },
    ...errorResponses,
    ...notFound,
  },
});

const one = createRoute({
  method: "get",
  path: "/v1/messages/{id}",
  tags: ["messages"],
  summary: "One message with its status history",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: Message.extend({ fields: z.unknown(), events: z.array(MessageEvent) }),
        },
      },
      description: "The message",
    },
    ...errorResponses,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const after = decodeCursor<number>(q.cursor);
    const page = await listMessages(deps, c.get("principal"), c.req.valid("param").id, {
      ...q,
      after: typeof after === "number" ? after : null,
    });
    return c.json(
      { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });
  app.openapi(
    one,
    async (c) => c.json(await getMessage(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
}
