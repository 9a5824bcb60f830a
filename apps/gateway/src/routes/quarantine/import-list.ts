import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { ApiError } from "../../errors.ts";
import { IMPORT_BATCH, importAddresses, type ImportFormat } from "../../services/quarantine.ts";
import { defineRoute, errorResponses, forbidden } from "../common.ts";
import { ImportQuery, ImportResult } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/quarantine/import",
  tags: ["quarantine"],
  summary: "Import a suppression list (CSV or NDJSON), streamed: any number of lines",
  description:
    "CSV: one address per line in the first column, an optional comment in the second, an optional header " +
    'line `address`. NDJSON: one `{"address": …, "comment"?: …}` per line. Each address is normalized and given ' +
    `\`status\` (denylisted by default). The body is read as it arrives and written in batches of ${IMPORT_BATCH} ` +
    "lines, so this route has no body size limit. Each batch commits on its own: a failed import leaves the batches " +
    "already written, and since every batch is an idempotent upsert, sending the same file again is safe. Invalid " +
    "lines are skipped and counted; the first 100 are named with their line number.",
  middleware: [requireOperator],
  request: {
    query: ImportQuery,
    body: {
      content: {
        "text/csv": {
          schema: z.string().openapi({
            example: "address,comment\nuser@example.com,unsubscribed 2024\n",
          }),
        },
        "application/x-ndjson": {
          schema: z.string().openapi({
            example: '{"address":"user@example.com","comment":"unsubscribed"}\n',
          }),
        },
      },
      required: true,
    },
  },
  responses: {
    200: {
      content: { "application/json": { schema: ImportResult } },
      description: "Imported; invalid lines counted",
    },
    ...errorResponses,
    ...forbidden,
    415: {
      content: { "application/problem+json": { schema: z.unknown() } },
      description: "Neither CSV nor NDJSON",
    },
  },
});

const formats: Record<string, ImportFormat> = {
  "text/csv": "csv",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
};

export function register(app: App, deps: AppDeps) {
  // The body is not validated by the route (a stream of any length): the service reads it.
  app.openapi(route, async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const format = formats[type];
    if (!format) {
      throw new ApiError("unsupportedMediaType", "send text/csv or application/x-ndjson");
    }
    return c.json(
      await importAddresses(deps, { ...c.req.valid("query"), format, scope: "" }, c.req.raw.body),
      200,
    );
  });
}
