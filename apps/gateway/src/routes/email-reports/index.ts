import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { listEmailReports } from "../../services/email-reports.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  forbidden,
  Limit,
  pageCursor,
} from "../common.ts";

/**
 * Operators' view of the email reports the bounce listener (or the importer) stored: how many
 * there are by state and kind, and one state's reports newest first — the `unmatched` ones named
 * no message (a forged or foreign bounce, a token that fails its MAC) and are kept, never dropped.
 */
const reportCursor = pageCursor(z.number().int().min(1));
const State = z.enum(["pending", "waiting", "applied", "unmatched", "ignored"]);

const reports = defineRoute({
  method: "get",
  path: "/v1/email/reports",
  tags: ["email"],
  summary: "Email reports (bounces, auto-replies, complaints) by state",
  description:
    "Counts by state and kind, and the reports of one state (default `unmatched`: those that named no message), newest first, without their raw bytes.",
  middleware: [requireOperator],
  request: {
    query: z.object({ state: State.default("unmatched"), limit: Limit, cursor: CursorParam }),
  },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: z.object({
            counts: z.array(z.object({
              state: z.string(),
              kind: z.string(),
              count: z.number(),
              oldest: z.string(),
            })),
            items: z.array(z.object({ id: z.number() }).catchall(z.unknown())),
            nextCursor: z.string().nullable(),
          }),
        },
      },
      description: "The reports",
    },
    ...errorResponses,
    ...forbidden,
  },
});

export function registerEmailReportRoutes(app: App, deps: AppDeps): void {
  app.openapi(reports, async (c) => {
    const { state, limit, cursor } = c.req.valid("query");
    const page = await listEmailReports(deps, state, limit, reportCursor.decode(cursor) ?? null);
    return c.json({
      counts: page.counts,
      items: page.items,
      nextCursor: page.next === null ? null : reportCursor.encode(page.next),
    }, 200);
  });
}
