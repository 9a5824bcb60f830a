import { z } from "@hono/zod-openapi";
import { conflict } from "../common.ts";
import { matching, text, timestamp } from "../fields.ts";
import {
  type Channel,
  channels,
  EntryStatus,
  type FailureType,
  failureTypes,
  isReasonCode,
  RetryMode,
} from "@sendgate/core";

export const ChannelName = z.enum(channels as [Channel, ...Channel[]]);
export const TypeName = z.enum(failureTypes as [FailureType, ...FailureType[]]);
export const StatusName = z.enum(Object.values(EntryStatus) as [EntryStatus, ...EntryStatus[]]);
const RetryName = z.enum(Object.values(RetryMode) as [RetryMode, ...RetryMode[]]);
export const ReasonValue = z.number().int().refine(isReasonCode, "unknown reason code")
  .openapi({ type: "integer", description: "Failure reason's technical value (DOMAIN §2)" });

export const Entry = z.object({
  id: z.number().int(),
  channel: ChannelName,
  normalizedText: z.string(),
  firstText: z.string().openapi({ description: "The first raw text seen" }),
  type: TypeName,
  reason: z.number().int(),
  status: StatusName,
  ruleId: z.string().nullable().openapi({
    description: "The rule that qualified the text; null when a code table or nothing did",
  }),
  count: z.number().int().openapi({ description: "Occurrences, capped at 100,000" }),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
}).openapi("QualificationEntry");

export const EntryPatch = z.object({
  type: TypeName.optional(),
  reason: ReasonValue.optional(),
  status: StatusName.optional(),
}).strict().refine(
  (p) => p.type !== undefined || p.reason !== undefined || p.status !== undefined,
  "give type, reason or status",
)
  .openapi("QualificationEntryPatch");

export const Requalify = z.object({
  channel: ChannelName,
  text: text(4000, "text", 1).optional().openapi({
    description: "A normalized text, as the qualification table stores it",
  }),
  ruleId: text(100, "token", 1).optional().openapi({
    description: "Every text this rule qualified",
  }),
  from: timestamp(),
  to: timestamp(),
  type: TypeName.optional(),
  reason: ReasonValue.optional(),
  status: StatusName.optional(),
  release: z.boolean().default(true).openapi({
    description: "Release the quarantines the text or rule caused between from and to",
  }),
  comment: text(1000).optional().openapi({ description: "Set on each released address" }),
}).strict().superRefine((b, ctx) => {
  if ((b.text === undefined) === (b.ruleId === undefined)) {
    for (const path of ["text", "ruleId"]) {
      ctx.addIssue({
        code: "custom",
        path: [path],
        message: "give exactly one of text and ruleId",
      });
    }
  }
  if (Date.parse(b.to) <= Date.parse(b.from)) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  }
}).openapi("Requalification");

export const RequalifyResult = z.object({
  entriesUpdated: z.number().int(),
  quarantinesReleased: z.number().int(),
}).openapi("RequalificationResult");

export const Rule = z.object({
  id: z.string(),
  layer: z.enum(["shipped", "operator"]).openapi({
    description: "Shipped rules are read-only; the operator layer matches first",
  }),
  channel: ChannelName,
  pattern: z.string(),
  regex: z.boolean(),
  type: TypeName,
  reason: z.number().int(),
  retry: RetryName.nullable(),
  pauseDelivery: z.boolean(),
  note: z.string().nullable(),
  position: z.number().int().openapi({ description: "Matching order within the layer" }),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("QualificationRule");

const ruleFields = {
  channel: ChannelName,
  pattern: text(2000, "text", 1).openapi({
    description: "Case-insensitive substring of the canonical text, or a regular expression",
  }),
  regex: z.boolean().optional(),
  type: TypeName,
  reason: ReasonValue,
  retry: RetryName.optional().openapi({
    description: "Default: never for hard, schedule otherwise",
  }),
  pauseDelivery: z.boolean().optional().openapi({
    description: "Our own configuration is at fault: pause the delivery",
  }),
  note: text(1000).optional(),
  position: z.number().int().min(0).max(1_000_000).optional()
    .openapi({
      description:
        "Place in the operator layer; the rules from there on move down. Default: last (on create), unchanged (on replace)",
    }),
};

/** Operator ids carry their own prefix, so no shipped rule of a later release can take one. */
export const OperatorRuleId = matching(
  z.string(),
  /^op-[A-Za-z0-9._-]{1,97}$/u,
  "an operator rule id is `op-` then letters, digits, `.`, `_` or `-`",
);

export const CreateRule = z.object({ id: OperatorRuleId.optional(), ...ruleFields }).strict()
  .openapi("CreateRule");
export const ReplaceRule = z.object(ruleFields).strict().openapi("ReplaceRule");

/** The 409 of PUT and DELETE on a shipped rule. */
export const ReadOnly = {
  409: {
    ...conflict[409],
    description: "A shipped rule: read-only; add an operator rule to override it",
  },
} as const;
