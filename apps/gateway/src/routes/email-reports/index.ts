import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import { ApiError } from "../../errors.ts";
import { listEmailReports, storeEmailReport } from "../../services/email-reports.ts";
import { text } from "../fields.ts";
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

const submit = defineRoute({
  method: "post",
  path: "/v1/email/reports",
  tags: ["email"],
  summary: "Submit one report (a bounce, auto-reply or complaint collected elsewhere)",
  description:
    "The raw message as `message/rfc822`, as `npm run bounces -- import` sends each message of a Maildir, an mbox or .eml files. " +
    "Stored as the bounce listener stores what it receives, then applied by the dispatchers; the answer names the stored report. " +
    "Sending the same message twice stores it twice, and applying it twice changes nothing more.",
  middleware: [requireOperator],
  request: {
    query: z.object({
      origin: text(500, "line").optional().openapi({
        description: "Where it came from (a file, an mbox and its index), kept with it",
      }),
    }),
    body: {
      content: { "message/rfc822": { schema: z.string().openapi({ format: "binary" }) } },
      required: true,
    },
  },
  responses: {
    201: {
      content: { "application/json": { schema: z.object({ id: z.number() }) } },
      description: "Stored",
    },
    ...errorResponses,
    ...forbidden,
    415: {
      content: { "application/problem+json": { schema: z.unknown() } },
      description: "Not message/rfc822",
    },
  },
});

export function registerEmailReportRoutes(app: App, deps: AppDeps): void {
  // The body is not validated by the route (any octets): stored as they came.
  app.openapi(submit, async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "message/rfc822") {
      throw new ApiError("unsupportedMediaType", "send the message as message/rfc822");
    }
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (raw.byteLength === 0) {
      throw new ApiError("validation", "the body is empty: send the whole message", [
        { path: "body", message: "empty" },
      ]);
    }
    const { origin } = c.req.valid("query");
    const id = await storeEmailReport(deps.database, {
      source: "import",
      origin: origin ?? null,
      raw,
    });
    return c.json({ id }, 201);
  });
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
