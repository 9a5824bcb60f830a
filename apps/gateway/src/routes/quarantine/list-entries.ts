import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { requireOperator } from "../../auth.ts";
import { ApiError } from "../../errors.ts";
import { listEntries } from "../../services/quarantine.ts";
import {
  Cursor,
  decodeCursor,
  encodeCursor,
  errorResponses,
  forbidden,
  Limit,
  Page,
} from "../common.ts";
import { AddressStatusName, ChannelName, Entry } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/v1/quarantine",
  tags: ["quarantine"],
  summary: "The quarantine: every address with a status, by channel then address",
  middleware: [requireOperator],
  request: {
    query: z.object({
      channel: ChannelName.optional(),
      status: AddressStatusName.optional(),
      q: z.string().min(1).max(2048).optional().openapi({
        description: "Case-insensitive substring of the address",
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
      description: "A page, by (channel, address)",
    },
    ...errorResponses,
    ...forbidden,
  },
});

const isKey = (v: unknown): v is { c: string; a: string } =>
  typeof v === "object" && v !== null && typeof (v as { c: unknown }).c === "string" &&
  typeof (v as { a: unknown }).a === "string";

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const after = decodeCursor<unknown>(q.cursor);
    if (q.cursor && !isKey(after)) {
      throw new ApiError("validation", "invalid cursor", [{
        path: "query.cursor",
        message: "not a cursor from this list",
      }]);
    }
    const page = await listEntries(deps, { ...q, after: isKey(after) ? after : null });
    return c.json(
      { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });
}
