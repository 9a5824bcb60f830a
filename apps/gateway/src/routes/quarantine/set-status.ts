import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { setStatus } from "../../services/quarantine.ts";
import { defineRoute, errorResponses, forbidden } from "../common.ts";
import { Entry, EntryParams, SetStatus } from "./schemas.ts";

const route = defineRoute({
  method: "put",
  path: "/v1/quarantine/{channel}/{address}",
  tags: ["quarantine"],
  summary: "Set an address's status: denylist, allowlist, quarantine, or back to valid",
  description:
    "Denylisted and quarantined addresses are excluded from deliveries (reasons 8 and 9); allowlisted " +
    "addresses are never quarantined. `valid` resets the error count. The status date changes only with the status.",
  middleware: [requireOperator],
  request: {
    params: EntryParams,
    body: { content: { "application/json": { schema: SetStatus } }, required: true },
  },
  responses: {
    200: {
      content: { "application/json": { schema: Entry } },
      description: "The entry as it now is",
    },
    201: { content: { "application/json": { schema: Entry } }, description: "Created" },
    ...errorResponses,
    ...forbidden,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => {
    const { channel, address } = c.req.valid("param");
    const { entry, created } = await setStatus(deps, channel, address, c.req.valid("json"));
    return c.json(entry, created ? 201 : 200);
  });
}
