import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { requireOperator } from "../../auth.ts";
import { listEntries } from "../../services/qualification.ts";
import {
  Cursor,
  decodeCursor,
  encodeCursor,
  errorResponses,
  forbidden,
  Limit,
  Page,
} from "../common.ts";
import { ChannelName, Entry, StatusName } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/v1/qualification",
  tags: ["qualification"],
  summary: "The qualification table: each distinct error text once per channel",
  middleware: [requireOperator],
  request: {
    query: z.object({
      status: StatusName.optional(),
      channel: ChannelName.optional(),
      reason: z.coerce.number().int().optional(),
      text: z.string().min(1).max(1000).optional().openapi({
        description: "Case-insensitive substring of the normalized or the first text",
      }),
      cursor: Cursor,
      limit: Limit,
    }),
  },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: Page(Entry),
        },
      },
      description: "A page, by id",
    },
    ...errorResponses,
    ...forbidden,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const after = decodeCursor<number>(q.cursor);
    const page = await listEntries(deps, { ...q, after: typeof after === "number" ? after : null });
    return c.json(
      { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });
}
