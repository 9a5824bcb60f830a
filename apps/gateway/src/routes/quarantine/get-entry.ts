import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { getEntry } from "../../services/quarantine.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { Entry, EntryParams } from "./schemas.ts";

const route = defineRoute({
  method: "get",
  path: "/v1/quarantine/{channel}/{address}",
  tags: ["quarantine"],
  summary: "One address's entry: status, error count, last error",
  middleware: [requireOperator],
  request: { params: EntryParams },
  responses: {
    200: { content: { "application/json": { schema: Entry } }, description: "The entry" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const { channel, address } = c.req.valid("param");
    return c.json(await getEntry(deps, channel, address), 200);
  });
}
