import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listEntries } from "../../services/quarantine.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  forbidden,
  Limit,
  Page,
  pageCursor,
} from "../common.ts";
import { text } from "../fields.ts";
import { AddressStatusName, ChannelName, Entry } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/quarantine",
  tags: ["quarantine"],
  summary: "The quarantine: every address with a status, by channel then address",
  middleware: [requireOperator],
  request: {
    query: z.object({
      channel: ChannelName.optional(),
      status: AddressStatusName.optional(),
      q: text(2048, "text", 1).optional().openapi({
        description: "Case-insensitive substring of the address",
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
      description: "A page, by (channel, address)",
    },
    ...errorResponses,
    ...forbidden,
  },
});

/** By (channel, address): the last entry's key. */
const cursor = pageCursor(
  z.object({ c: ChannelName, a: text(2048, "text", 1), s: text(64, "token").optional() }).strict(),
);

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
