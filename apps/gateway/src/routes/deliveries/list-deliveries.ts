import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { listDeliveries } from "../../services/deliveries.ts";
import { Cursor, decodeCursor, encodeCursor, errorResponses, Limit, Page } from "../common.ts";
import { Delivery } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/v1/deliveries",
  tags: ["deliveries"],
  summary: "List the instance's deliveries, newest first",
  request: {
    query: z.object({
      state: z.enum(["draft", "running", "cancelled", "finished"]).optional(),
      channel: z.enum(["email", "sms", "push"]).optional(),
      externalRef: z.string().max(200).optional(),
      cursor: Cursor,
      limit: Limit,
    }),
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

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const page = await listDeliveries(deps, c.get("principal"), {
      ...q,
      after: decodeCursor(q.cursor),
    });
    return c.json(
      { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });
}
