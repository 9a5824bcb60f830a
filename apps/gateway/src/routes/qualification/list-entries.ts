import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listEntries } from "../../services/qualification.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  forbidden,
  Limit,
  Page,
  pageCursor,
} from "../common.ts";
import { INT32_MAX, queryInt, text } from "../fields.ts";
import { ChannelName, Entry, StatusName } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/qualification",
  tags: ["qualification"],
  summary: "The qualification table: each distinct error text once per channel",
  middleware: [requireOperator],
  request: {
    query: z.object({
      status: StatusName.optional(),
      channel: ChannelName.optional(),
      reason: queryInt(0, 32_767).optional(),
      text: text(1000, "text", 1).optional().openapi({
        description: "Case-insensitive substring of the normalized or the first text",
      }),
      cursor: CursorParam,
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

/** By id: the last entry's id. */
const cursor = pageCursor(z.number().int().min(1).max(INT32_MAX));

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const page = await listEntries(deps, { ...q, after: cursor.decode(q.cursor) });
    return c.json(
      { items: page.items, nextCursor: page.next ? cursor.encode(page.next) : null },
      200,
    );
  });
}
