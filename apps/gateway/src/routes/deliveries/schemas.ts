import { z } from "@hono/zod-openapi";
import { messageStatuses, reasonCodes, smsTextInfo } from "@sendgate/core";

const EmailContent = z.object({
  from: z.string().min(3).max(320).openapi({ example: "News <news@example.com>" }),
  replyTo: z.string().min(3).max(320).optional(),
  subject: z.string().min(1).max(998),
  text: z.string().max(2_000_000).optional(),
  html: z.string().max(2_000_000).optional(),
  headers: z.record(z.string().regex(/^[!-9;-~]+$/u, "not a header name"), z.string().max(998))
    .optional(),
}).strict().refine((c) => c.text !== undefined || c.html !== undefined, {
  message: "give text, html or both",
  path: ["text"],
});

/** Parts a long SMS may be split into; the template is checked (fields may lengthen it). */
export const MAX_SMS_SEGMENTS = 10;

const SmsContent = z.object({
  sender: z.string().min(1).max(15).regex(
    /^(?:\+?\d{1,15}|[A-Za-z0-9 ]{1,11})$/u,
    "an alphanumeric sender of up to 11 characters, or a number of up to 15 digits",
  ),
  text: z.string().min(1).max(1530).superRefine((text, ctx) => {
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
  title: z.string().min(1).max(200),
  body: z.string().max(2000).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  ttlSeconds: z.number().int().min(0).max(2_419_200).default(86_400),
  urgency: z.enum(["very-low", "low", "normal", "high"]).default("normal"),
  topic: z.string().max(32).regex(/^[A-Za-z0-9_-]+$/u, "URL-safe base64 characters only")
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
  externalRef: z.string().max(200).optional(),
  validitySeconds: z.number().int().min(60).max(30 * 86_400).default(5 * 86_400)
    .openapi({
      description:
        "Validity period from the delivery's creation; no retry goes past it. Default 5 days.",
    }),
  retryPolicy: RetryPolicy.optional(),
  affinity: z.string().min(1).max(64).optional().openapi({ description: "Named sender pool" }),
  scheduledAt: z.string().datetime({ offset: true }).optional(),
  controlGroup: z.object({
    ratio: z.number().min(0).max(1).optional(),
    externalIds: z.array(z.string().min(1).max(200)).max(100_000).optional(),
  }).strict().optional(),
  maxTargetSize: z.number().int().min(1).optional(),
};

export const CreateDelivery = z.discriminatedUnion("channel", [
  z.object({ channel: z.literal("email"), content: EmailContent, ...common }).strict(),
  z.object({ channel: z.literal("sms"), content: SmsContent, ...common }).strict(),
  z.object({ channel: z.literal("push"), content: PushContent, ...common }).strict(),
]).openapi("CreateDelivery");
export type CreateDelivery = z.infer<typeof CreateDelivery>;

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
  counts: z.object({
    total: z.number().int(),
    byStatus: Counts.openapi({ description: "Messages per status" }),
    byReason: Counts.openapi({ description: "Failed or ignored messages per reason code" }),
  }).optional(),
}).openapi("Delivery");

// What a browser's PushSubscription.toJSON() gives: endpoint, expirationTime, keys.
const PushSubscription = z.object({
  endpoint: z.string().min(1).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: z.string().min(1).max(200), auth: z.string().min(1).max(100) }).strict(),
}).strict();

/** One recipient of a part. Its address is checked for the delivery's channel, one by one. */
export const Recipient = z.object({
  externalId: z.string().min(1).max(200),
  address: z.union([z.string().max(2048), PushSubscription]).nullable().optional()
    .openapi({
      description:
        "Email address, E.164 phone number, or push subscription; empty or absent: reason 7",
    }),
  fields: z.record(z.string(), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]))
    .optional()
    .openapi({ description: "Personalization fields" }),
}).strict().openapi("Recipient");
export type Recipient = z.infer<typeof Recipient>;

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
      index: z.number().int(),
      externalId: z.string(),
      address: z.unknown(),
      error: z.string(),
    }),
  )
    .openapi({
      description: "Recipients with an invalid address: not written; the rest of the part was",
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
  providerMessageId: z.string().nullable(),
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
}).openapi("MessageEvent");

export const StatusFilter = z.enum(messageStatuses as [string, ...string[]]).optional();
export const ReasonFilter = z.coerce.number().int().refine(
  (n) => (reasonCodes as readonly number[]).includes(n),
  "unknown reason code",
).optional();
