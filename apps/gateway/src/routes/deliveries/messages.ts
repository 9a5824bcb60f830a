import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { getMessage, listMessages } from "../../services/deliveries.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  Limit,
  NoQuery,
  notFound,
  Page,
  pageCursor,
} from "../common.ts";
import { Message, MessageEvent, ReasonFilter, StatusFilter } from "./schemas.ts";

const list = defineRoute({
  method: "get",
  path: "/v1/deliveries/{id}/messages",
  tags: ["messages"],
  summary: "A delivery's messages, filtered by status and reason",
  request: {
    params: z.object({ id: z.string() }),
    query: z.object({
      status: StatusFilter,
      reason: ReasonFilter,
      cursor: CursorParam,
      limit: Limit,
    })
      .strict(),
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

const one = defineRoute({
  method: "get",
  path: "/v1/messages/{id}",
  tags: ["messages"],
  summary: "One message with its status history",
  request: { params: z.object({ id: z.string() }), query: NoQuery },
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

/** By id: the last message's id. */
const cursor = pageCursor(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER));

export function register(app: App, deps: AppDeps) {
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = await listMessages(deps, c.get("principal"), c.req.valid("param").id, {
      ...q,
      after: cursor.decode(q.cursor),
    });
    return c.json(
      { items: page.items, nextCursor: page.next ? cursor.encode(page.next) : null },
      200,
    );
  });
  app.openapi(
    one,
    async (c) => c.json(await getMessage(deps, c.get("principal"), c.req.valid("param").id), 200),
  );
}
