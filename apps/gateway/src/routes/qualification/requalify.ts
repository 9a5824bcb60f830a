import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { requalify } from "../../services/qualification.ts";
import { defineRoute, errorResponses, forbidden, notFound } from "../common.ts";
import { Requalify, RequalifyResult } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/qualification/requalify",
  tags: ["qualification"],
  summary:
    "Re-qualify a text (or a rule's texts) and release the quarantines it caused in a time window",
  description:
    "For an ISP outage that made good addresses bounce. The matching qualification entries take the given " +
    "type, reason and status; with `release` (default true), addresses of the channel that are quarantined or erroneous " +
    "because of that text or rule, since a time between `from` and `to`, become valid with no error. Denylisted and " +
    "allowlisted addresses stay as they are. All of it in one transaction. A text or rule id that names nothing " +
    "on the channel is a 404.",
  middleware: [requireOperator],
  request: { body: { content: { "application/json": { schema: Requalify } }, required: true } },
  responses: {
    200: {
      content: { "application/json": { schema: RequalifyResult } },
      description: "What changed",
    },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

export function register(app: App, deps: AppDeps) {
  app.openapi(route, async (c) => c.json(await requalify(deps, c.req.valid("json")), 200));
}
