import { z } from "@hono/zod-openapi";
import {
  messageStatuses,
  parseMailbox,
  reasonCodes,
  sendingWindowError,
  smsTextInfo,
} from "@sendgate/core";
import { customHeaderProblem, MAX_CUSTOM_HEADERS } from "@sendgate/channels";
import type { DeliveryInput, Recipient as ServiceRecipient } from "../../services/deliveries.ts";
import { int32, jsonObject, matching, text, timestamp } from "../fields.ts";

/** An RFC 5322 mailbox (`addr@example.com` or `Name <addr@example.com>`), one line. */
const Mailbox = z.string().max(320).superRefine((value, ctx) => {
  const check = parseMailbox(value);
  if (!check.ok) ctx.addIssue({ code: "custom", message: check.error });
});

const HeaderName = z.string().max(76).superRefine((name, ctx) => {
  const problem = customHeaderProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const EmailContent = z.object({
  from: Mailbox.openapi({ example: "News <news@example.com>" }),
  replyTo: Mailbox.optional(),
  subject: text(998, "line", 1),
  text: text(2_000_000).optional(),
  html: text(2_000_000).optional(),
  headers: z.record(HeaderName, text(998, "line")).refine(
    (h) => Object.keys(h).length <= MAX_CUSTOM_HEADERS,
    `at most ${MAX_CUSTOM_HEADERS} custom headers`,
  ).optional().openapi({
    description:
      "Custom headers: valid field names, never one the gateway writes itself (From, To, Message-ID, " +
      "Content-*, List-Unsubscribe …); values on one line",
  }),
}).strict().refine((c) => c.text !== undefined || c.html !== undefined, {
  message: "give text, html or both",
  path: ["text"],
});

/** Parts a long SMS may be split into; the template is checked (fields may lengthen it). */
export const MAX_SMS_SEGMENTS = 10;

const SmsContent = z.object({
  sender: matching(
    z.string().min(1).max(15),
    /^(?:\+?\d{1,15}|[A-Za-z0-9 ]{1,11})$/u,
    "an alphanumeric sender of up to 11 characters, or a number of up to 15 digits",
  ),
  text: text(1530, "text", 1).superRefine((text, ctx) => {
    const info = smsTextInfo(text);
    if (info.segments > MAX_SMS_SEGMENTS) {
      ctx.addIssue({
        code: "custom",
        message: `the text needs ${info.segments} ${
          info.encoding === "gsm7" ? "GSM-7" : "UCS-2"
        } parts; at most ${MAX_SMS_SEGMENTS}`,
      });
    }
  }).openapi({
    description:
      "GSM-7 when every character fits, else UCS-2; long texts are sent in up to 10 parts",
  }),
}).strict();

const PushContent = z.object({
  title: text(200, "line", 1),
  body: text(2000).optional(),
  data: jsonObject().optional().openapi({
    description: "Free JSON handed to the page's service worker (nesting up to 16 levels)",
  }),
  ttlSeconds: z.number().int().min(0).max(2_419_200).default(86_400),
  urgency: z.enum(["very-low", "low", "normal", "high"]).default("normal"),
  topic: matching(z.string().max(32), /^[A-Za-z0-9_-]+$/u, "URL-safe base64 characters only")
    .optional(),
}).strict();

const RetryPolicy = z.object({
  steps: z.array(
    z.object({
      count: z.number().int().min(0).max(100),
      intervalSeconds: z.number().int().min(1).max(30 * 86_400),
    }).strict(),
  ).max(10),
}).strict().openapi({
  description: "Retry schedule overriding the default (5 × 1 h, then 4 × 1 day)",
});

const common = {
  externalRef: text(200, "token").optional(),
  validitySeconds: z.number().int().min(60).max(30 * 86_400).default(5 * 86_400)
    .openapi({
      description:
        "Validity period from the delivery's creation; no retry goes past it. Default 5 days.",
    }),
  retryPolicy: RetryPolicy.optional(),
  affinity: text(64, "token", 1).optional().openapi({ description: "Named sender pool" }),
  scheduledAt: timestamp().optional().openapi({
    description: "Send from this time on; before the end of the validity period",
  }),
  controlGroup: z.object({
    ratio: z.number().min(0).max(1).optional(),
    externalIds: z.array(text(200, "token", 1)).max(100_000).optional(),
  }).strict().optional(),
  maxTargetSize: int32(1).optional(),
  priority: z.number().int().min(-100).max(100).default(0).openapi({
    description:
      "Higher goes first (transactional above bulk); deliveries of equal priority take turns by start time",
  }),
  sendingWindow: z.object({
    timeZone: text(64, "token", 1).openapi({ example: "Europe/Paris" }),
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7).openapi({
      description: "ISO days: 1 Monday … 7 Sunday",
    }),
    from: text(5, "token", 5).openapi({ example: "08:00" }),
    to: text(5, "token", 5).openapi({ example: "20:00" }),
  }).strict().superRefine((w, ctx) => {
    const error = sendingWindowError(w);
    if (error) ctx.addIssue({ code: "custom", message: error });
  }).optional().openapi({
    description:
      "When it may send, in a time zone (outside it, messages wait); `from` after `to` spans midnight",
  }),
};

export const CreateDelivery = z.discriminatedUnion("channel", [
  z.object({ channel: z.literal("email"), content: EmailContent, ...common }).strict(),
  z.object({ channel: z.literal("sms"), content: SmsContent, ...common }).strict(),
  z.object({ channel: z.literal("push"), content: PushContent, ...common }).strict(),
]).openapi("CreateDelivery");
/** `T`, which must give what `U` takes: the compiler checks that a schema fits its service. */
type Fits<T extends U, U> = T;
export type CreateDelivery = Fits<z.infer<typeof CreateDelivery>, DeliveryInput>;

const Counts = z.record(z.string(), z.number().int());

export const Delivery = z.object({
  id: z.string().uuid(),
  channel: z.enum(["email", "sms", "push"]),
  state: z.enum(["draft", "running", "cancelled", "finished"]),
  externalRef: z.string().nullable(),
  content: z.record(z.string(), z.unknown()),
  validUntil: z.string(),
  retryPolicy: z.unknown().nullable(),
  affinity: z.string().nullable(),
  scheduledAt: z.string().nullable(),
  controlGroup: z.unknown().nullable(),
  maxTargetSize: z.number().int().nullable(),
  priority: z.number().int(),
  sendingWindow: z.unknown().nullable(),
  paused: z.object({ since: z.string(), reason: z.string() }).nullable().openapi({
    description:
      "Set when sending stopped for a reason of ours (push 401/403: VAPID configuration)",
  }),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  sms: z.object({
    encoding: z.enum(["gsm7", "ucs2"]),
    units: z.number().int(),
    segments: z.number().int(),
  })
    .optional().openapi({
      description: "SMS only: how the template is encoded and how many parts it takes",
    }),
  waiting: z.array(
    z.object({ kind: z.string(), count: z.number().int() }).catchall(z.unknown()),
  ).optional().openapi({
    description:
      "Why pending messages wait, each reason with its count and what lifts it: `scheduled` (until), " +
      "`sendingWindow` (until), `paused` (since, reason), `concurrencyLimit` (limit, ahead), " +
      "`noSenderForAffinity` (affinity), `channelNotConfigured` (channel), `providerDown` (channel, " +
      "since: no SMS provider has a bind up), `retryScheduled` (nextAt), " +
      "`domainSuspended` (domain, until, errorRate, results), `domainRateLimit` (domain, until)",
  }),
  counts: z.object({
    total: z.number().int(),
    byStatus: Counts.openapi({ description: "Messages per status" }),
    byReason: Counts.openapi({ description: "Failed or ignored messages per reason code" }),
  }).optional(),
}).openapi("Delivery");

// What a browser's PushSubscription.toJSON() gives: endpoint, expirationTime, keys.
const PushSubscription = z.object({
  endpoint: text(2048, "token", 1),
  expirationTime: z.number().nullable().optional(),
  // Required, but checked per recipient (a subscription exported without its keys is refused
  // alone, like a bare endpoint URL), not as a malformed part.
  keys: z.object({ p256dh: text(200, "token", 1), auth: text(100, "token", 1) }).strict()
    .optional(),
}).strict();

const MAX_FIELDS = 200;

/** One recipient of a part. Its address is checked for the delivery's channel, one by one. */
export const Recipient = z.object({
  externalId: text(200, "token", 1),
  address: z.union([text(2048, "token"), PushSubscription]).nullable().optional()
    .openapi({
      description:
        "Email address, E.164 phone number, or push subscription (endpoint and keys); empty or absent: reason 7",
    }),
  fields: z.record(
    text(100, "token", 1),
    z.union([text(10_000), z.number(), z.boolean(), z.null()]),
  ).refine((f) => Object.keys(f).length <= MAX_FIELDS, `at most ${MAX_FIELDS} fields`)
    .optional()
    .openapi({ description: "Personalization fields" }),
}).strict().openapi("Recipient");
export type Recipient = Fits<z.infer<typeof Recipient>, ServiceRecipient>;

export const MAX_PART = 10_000;
export const PartBody = z.object({
  recipients: z.array(Recipient).min(1).max(MAX_PART),
}).strict().openapi("Part");

export const PartResult = z.object({
  deliveryId: z.string().uuid(),
  received: z.number().int(),
  accepted: z.number().int().openapi({ description: "Messages written as pending" }),
  ignored: z.number().int().openapi({ description: "Messages written as ignored (excluded)" }),
  excluded: z.array(
    z.object({ reason: z.number().int(), label: z.string(), count: z.number().int() }),
  ),
  rejected: z.array(
    z.object({
      index: z.number().int().openapi({ description: "0-based position in the part" }),
      externalId: z.string(),
      field: z.string().openapi({
        description: "The recipient's field at fault: `address`, `externalId`, `fields.<name>` …",
      }),
      address: z.unknown(),
      error: z.string(),
    }),
  )
    .openapi({
      description:
        "Recipients with an invalid address or a text that cannot be stored or sent (NUL, lone surrogate, " +
        "control character): not written; the rest of the part was",
    }),
}).openapi("PartResult");

export const Message = z.object({
  id: z.string(),
  deliveryId: z.string().uuid(),
  externalId: z.string(),
  address: z.string().nullable(),
  status: z.enum(messageStatuses as [string, ...string[]]),
  failureType: z.string().nullable(),
  reason: z.number().int().nullable(),
  attempt: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  providerMessageId: z.string().nullable().openapi({
    description: "The SMS provider's id (canonical: lower case, no leading zeros)",
  }),
  provider: z.string().nullable().openapi({ description: "The SMS provider that took it" }),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("Message");

export const MessageEvent = z.object({
  at: z.string(),
  event: z.string(),
  status: z.string(),
  failureType: z.string().nullable(),
  reason: z.number().int().nullable(),
  text: z.string().nullable(),
  detail: z.unknown().openapi({
    description: "What decided it (rule, retry kind) and, for SMS, the provider that carried it",
  }),
}).openapi("MessageEvent");

export const StatusFilter = z.enum(messageStatuses as [string, ...string[]]).optional();
export const ReasonFilter = z.coerce.number().int().refine(
  (n) => (reasonCodes as readonly number[]).includes(n),
  "unknown reason code",
).optional();
