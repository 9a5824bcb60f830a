import { z } from "@hono/zod-openapi";
import { receiptIdFormats } from "@sendgate/core";
import type { App, AppDeps } from "../../deps.ts";
import { requireOperator } from "../../auth.ts";
import {
  deleteProvider,
  getProvider,
  listProviders,
  listWaitingReports,
  putProvider,
} from "../../services/sms-providers.ts";
import {
  CursorParam,
  defineRoute,
  errorResponses,
  forbidden,
  Limit,
  notFound,
  pageCursor,
} from "../common.ts";
import { matching, text } from "../fields.ts";

/**
 * Operator routes of the SMS channel: providers (SMPP accounts, their routing by number prefix
 * and their limits), and the delivery reports that wait for a message. Secrets (the bind
 * password, the callback secret) are write-only.
 */
const Host = matching(
  z.string().min(1).max(253),
  /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$/u,
  "a host name or an IP address",
);
// SMPP 3.4 §5.2: system_id up to 15 octets, password 8, system_type 12, address_range 40;
// printable ASCII only (they are C-octet strings: no NUL).
const Printable = (max: number, min = 0) =>
  matching(z.string().min(min).max(max), /^[\x20-\x7e]*$/u, "printable ASCII");

const ProviderId = z.object({
  id: matching(
    z.string().min(1).max(40),
    /^[a-z0-9][a-z0-9_-]*$/u,
    "lower-case letters, digits, - and _",
  ),
});

const ProviderBody = z.object({
  host: Host,
  port: z.number().int().min(1).max(65_535),
  systemId: Printable(15, 1),
  password: Printable(8).optional().openapi({
    description: "Write-only; left out, the stored one stays",
  }),
  systemType: Printable(12).optional(),
  addressRange: Printable(40).optional(),
  binds: z.number().int().min(1).max(64).optional().openapi({
    description: "Binds the provider allows for the whole cluster (default 1); in pair mode, pairs",
  }),
  bindMode: z.enum(["transceiver", "pair"]).optional().openapi({
    description:
      "transceiver (default): each bind sends and receives; pair: a transmitter and a receiver per bind",
  }),
  window: z.number().int().min(1).max(1_000).optional().openapi({
    description: "Outstanding submit_sm per bind (default 10)",
  }),
  responseTimeoutMs: z.number().int().min(100).max(120_000).optional(),
  throughput: z.number().min(0).max(100_000).optional().openapi({
    description: "submit_sm per second per bind, as contracted (default: no cap)",
  }),
  enquireLinkMs: z.number().int().min(1_000).max(600_000).optional(),
  longMessages: z.enum(["udh", "sar", "payload"]).optional().openapi({
    description: "Long texts as UDH concatenation (default), SAR TLVs or one message_payload",
  }),
  receiptIdFormat: z.enum(receiptIdFormats as [string, ...string[]]).optional().openapi({
    description:
      "How ids of submit_sm_resp and receipts compare: auto (default: exact, else the other base), same, submitHexReceiptDecimal, submitDecimalReceiptHex",
  }),
  prefixes: z.array(matching(z.string().min(1).max(15), /^\d+$/u, "digits of an E.164 prefix"))
    .max(1_000).optional().openapi({
      description: "Numbers served, as E.164 prefixes without +; none: every number",
      example: ["33", "336"],
    }),
  priority: z.number().int().min(0).max(1_000).optional().openapi({
    description: "Among providers whose prefix matches as well, lower goes first (default 100)",
  }),
  defaultSender: matching(
    z.string().min(1).max(15),
    /^(?:\+?\d{1,15}|[A-Za-z0-9 ]{1,11})$/u,
    "an alphanumeric sender of up to 11 characters, or a number of up to 15 digits",
  ).optional(),
  callbackSecret: text(200, "token", 16).optional().openapi({
    description: "Write-only: the HMAC-SHA256 secret of this provider's HTTP callbacks",
  }),
  stopKeywords: z.array(text(20, "token", 1)).max(50).optional().openapi({
    description: "Replies that put the number on the sending instance's denylist",
    example: ["STOP", "ARRET"],
  }),
}).strict().openapi("SmsProviderSettings");

const Provider = z.object({ id: z.string(), updatedAt: z.string() }).catchall(z.unknown())
  .openapi("SmsProvider");

const list = defineRoute({
  method: "get",
  path: "/v1/sms/providers",
  tags: ["sms"],
  summary: "SMS providers, with the bind slots each process holds (secrets never shown)",
  middleware: [requireOperator],
  responses: {
    200: {
      content: { "application/json": { schema: z.object({ items: z.array(Provider) }) } },
      description: "The providers",
    },
    ...errorResponses,
    ...forbidden,
  },
});

const one = defineRoute({
  method: "get",
  path: "/v1/sms/providers/{id}",
  tags: ["sms"],
  summary: "One SMS provider",
  middleware: [requireOperator],
  request: { params: ProviderId },
  responses: {
    200: { content: { "application/json": { schema: Provider } }, description: "The provider" },
    ...errorResponses,
    ...forbidden,
    ...notFound,
  },
});

const put = defineRoute({
  method: "put",
  path: "/v1/sms/providers/{id}",
  tags: ["sms"],
  summary: "Configure an SMS provider (SMPP): picked up by running dispatchers within seconds",
  middleware: [requireOperator],
  request: {
    params: ProviderId,
    body: { content: { "application/json": { schema: ProviderBody } }, required: true },
  },
  responses: {
    200: { content: { "application/json": { schema: Provider } }, description: "Saved" },
    ...errorResponses,
    ...forbidden,
  },
});

const remove = defineRoute({
  method: "delete",
  path: "/v1/sms/providers/{id}",
  tags: ["sms"],
  summary: "Remove an SMS provider: its binds close, its numbers go to the next provider",
  middleware: [requireOperator],
  request: { params: ProviderId },
  responses: { 204: { description: "Removed" }, ...errorResponses, ...forbidden, ...notFound },
});

const reportCursor = pageCursor(z.number().int().min(0));
const reports = defineRoute({
  method: "get",
  path: "/v1/sms/reports",
  tags: ["sms"],
  summary: "Delivery reports by state, and those still waiting for their message",
  description:
    "A receipt or callback whose id names no message yet (it came before its submit_sm_resp, or " +
    "the id is unknown) is kept and tried again with back-off for three days.",
  middleware: [requireOperator],
  request: { query: z.object({ limit: Limit, cursor: CursorParam }) },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: z.object({
            counts: z.array(z.object({
              provider: z.string(),
              state: z.string(),
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

export function registerSmsRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => c.json(await listProviders(deps), 200));
  app.openapi(one, async (c) => c.json(await getProvider(deps, c.req.valid("param").id), 200));
  app.openapi(put, async (c) =>
    c.json(
      await putProvider(
        deps,
        c.req.valid("param").id,
        c.req.valid("json") as Parameters<typeof putProvider>[2],
      ),
      200,
    ));
  app.openapi(remove, async (c) => {
    await deleteProvider(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(reports, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await listWaitingReports(deps, limit, reportCursor.decode(cursor) ?? 0);
    return c.json({
      counts: page.counts,
      items: page.items,
      nextCursor: page.next === null ? null : reportCursor.encode(Number(page.next)),
    }, 200);
  });
}
