import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { listDeliveries } from "../../services/deliveries.ts";
import { CursorParam, defineRoute, errorResponses, Limit, Page, pageCursor } from "../common.ts";
import { isUuid } from "../../ids.ts";
import { text, timestamp } from "../fields.ts";
import { Delivery } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/deliveries",
  tags: ["deliveries"],
  summary: "List the instance's deliveries, newest first",
  request: {
    query: z.object({
      state: z.enum(["draft", "running", "cancelled", "finished"]).optional(),
      channel: z.enum(["email", "sms", "push"]).optional(),
      externalRef: text(200, "token").optional(),
      cursor: CursorParam,
      limit: Limit,
    }).strict(),
  },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: Page(Delivery),
        },
      },
      description: "A page",
    },
    ...errorResponses,
  },
});

/** Newest first: the last row's creation time and id. */
const cursor = pageCursor(
  z.object({ t: timestamp(), id: z.string().refine(isUuid) }).strict(),
);

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const page = await listDeliveries(deps, c.get("principal"), {
      ...q,
      after: cursor.decode(q.cursor),
    });
    return c.json(
      { items: page.items, nextCursor: page.next ? cursor.encode(page.next) : null },
      200,
    );
  });
}
