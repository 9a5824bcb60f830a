import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { ApiError } from "../../errors.ts";
import { AddressStatus } from "@sendgate/core";
import {
  deleteEntry,
  getEntry,
  IMPORT_BATCH,
  importAddresses,
  type ImportFormat,
  listEntries,
  setStatus,
} from "../../services/quarantine.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  Limit,
  notFound,
  Page,
  pageCursor,
} from "../common.ts";
import { text } from "../fields.ts";
import { ChannelName, Entry, EntryParams, ImportResult } from "../quarantine/schemas.ts";

/**
 * An instance's own suppression list (DOMAIN §7): its unsubscriptions, complaints and imported
 * lists, binding its own deliveries only. Any instance key; the entries are the caller's
 * instance's, never another's.
 */
const tags = ["suppressions"];

const list = defineRoute({
  method: "get",
  path: "/v1/suppressions",
  tags,
  summary: "The instance's own suppression list (denylisted for its deliveries only)",
  request: {
    query: z.object({
      channel: ChannelName.optional(),
      q: text(2048, "text", 1).optional().openapi({
        description: "Case-insensitive substring of the address",
      }),
      cursor: CursorParam,
      limit: Limit,
    }),
  },
  responses: {
    200: { content: { "application/json": { schema: Page(Entry) } }, description: "A page" },
    ...errorResponses,
  },
});

const cursor = pageCursor(
  z.object({ c: ChannelName, a: text(2048, "text", 1), s: text(64, "token").optional() }).strict(),
);

const put = defineRoute({
  method: "put",
  path: "/v1/suppressions/{channel}/{address}",
  tags,
  summary: "Suppress an address for the instance's deliveries (an unsubscription, a complaint …)",
  request: {
    params: EntryParams,
    body: {
      content: {
        "application/json": {
          schema: z.object({ comment: text(1000).optional() }).strict().openapi("Suppression"),
        },
      },
      required: true,
    },
  },
  responses: {
    200: { content: { "application/json": { schema: Entry } }, description: "Suppressed" },
    201: { content: { "application/json": { schema: Entry } }, description: "Created" },
    ...errorResponses,
  },
});

const one = defineRoute({
  method: "get",
  path: "/v1/suppressions/{channel}/{address}",
  tags,
  summary: "One address of the instance's suppression list",
  request: { params: EntryParams },
  responses: {
    200: { content: { "application/json": { schema: Entry } }, description: "The entry" },
    ...errorResponses,
    ...notFound,
  },
});

const remove = defineRoute({
  method: "delete",
  path: "/v1/suppressions/{channel}/{address}",
  tags,
  summary: "Take an address off the instance's suppression list",
  request: { params: EntryParams },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...notFound },
});

const importRoute = defineRoute({
  method: "post",
  path: "/v1/suppressions/import",
  tags,
  summary: "Import the instance's own suppression list (CSV or NDJSON), streamed",
  description: "As `POST /v1/quarantine/import` (same formats, batches of " + IMPORT_BATCH +
    " lines, invalid lines counted and named), but every address is denylisted for this instance's " +
    "deliveries only.",
  request: {
    query: z.object({ channel: ChannelName }),
    body: {
      content: {
        "text/csv": { schema: z.string() },
        "application/x-ndjson": { schema: z.string() },
      },
      required: true,
    },
  },
  responses: {
    200: { content: { "application/json": { schema: ImportResult } }, description: "Imported" },
    ...errorResponses,
  },
});

const formats: Record<string, ImportFormat> = {
  "text/csv": "csv",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
};

export function registerSuppressionRoutes(app: App, deps: AppDeps): void {
  const scope = (c: { get(k: "principal"): { instanceId: string } }) =>
    c.get("principal").instanceId;
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = await listEntries(deps, { ...q, scope: scope(c), after: cursor.decode(q.cursor) });
    return c.json(
      { items: page.items, nextCursor: page.next ? cursor.encode(page.next) : null },
      200,
    );
  });
  app.openapi(importRoute, async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const format = formats[type];
    if (!format) {
      throw new ApiError("unsupportedMediaType", "send text/csv or application/x-ndjson");
    }
    const { channel } = c.req.valid("query");
    return c.json(
      await importAddresses(
        deps,
        { channel, status: AddressStatus.denylisted, format, scope: scope(c) },
        c.req.raw.body,
      ),
      200,
    );
  });
  app.openapi(one, async (c) => {
    const { channel, address } = c.req.valid("param");
    return c.json(await getEntry(deps, channel, address, scope(c)), 200);
  });
  app.openapi(put, async (c) => {
    const { channel, address } = c.req.valid("param");
    const { comment } = c.req.valid("json");
    const { entry, created } = await setStatus(
      deps,
      channel,
      address,
      { status: AddressStatus.denylisted, ...(comment !== undefined ? { comment } : {}) },
      scope(c),
    );
    return c.json(entry, created ? 201 : 200);
  });
  app.openapi(remove, async (c) => {
    const { channel, address } = c.req.valid("param");
    await deleteEntry(deps, channel, address, scope(c));
    return c.body(null, 204);
  });
}
