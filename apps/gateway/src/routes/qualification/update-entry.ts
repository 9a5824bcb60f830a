import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { updateEntry } from "../../services/qualification.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { Entry, EntryPatch } from "./schemas.ts";

const route = defineRoute({
  method: "patch",
  path: "/v1/qualification/{id}",
  tags: ["qualification"],
  summary: "Qualify an entry: its type, reason and status",
  description:
    "The (type, reason) pair the entry ends up with must be one the reasons table allows (e.g. reason 1 is hard " +
    "only). `keep` entries enrich the rules; `ignore` entries never quarantine an address.",
  middleware: [requireOperator],
  request: {
    params: z.object({ id: z.string() }),
    body: { content: { "application/json": { schema: EntryPatch } }, required: true },
  },
  responses: {
    200: {
      content: { "application/json": { schema: Entry } },
      description: "The entry as it now is",
    },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(
    route,
    async (c) => c.json(await updateEntry(deps, c.req.valid("param").id, c.req.valid("json")), 200),
  );
}
