import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { deleteEntry } from "../../services/quarantine.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { EntryParams } from "./schemas.ts";

const route = defineRoute({
  method: "delete",
  path: "/v1/quarantine/{channel}/{address}",
  tags: ["quarantine"],
  summary: "Remove an address's entry: it is valid again, with no error history",
  middleware: [requireOperator],
  request: { params: EntryParams },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...forbidden, ...notFound },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const { channel, address } = c.req.valid("param");
    await deleteEntry(deps, channel, address);
    return c.body(null, 204);
  });
}
