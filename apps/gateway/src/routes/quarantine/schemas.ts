import { z } from "@hono/zod-openapi";
import { type AddressStatus, addressStatuses, type Channel, channels } from "@sendgate/core";
import { importStatuses, settableStatuses } from "../../services/quarantine.ts";
import { text } from "../fields.ts";

export const ChannelName = z.enum(channels as [Channel, ...Channel[]]);
export const AddressStatusName = z.enum(addressStatuses as [AddressStatus, ...AddressStatus[]]);

/** The path of one entry: the address URL-encoded, normalized before the lookup. */
export const EntryParams = z.object({
  channel: ChannelName,
  address: text(2048, "text", 1).openapi({
    description:
      "URL-encoded email address, E.164 phone number or push endpoint; normalized (email domain " +
      "lower-cased, phone to E.164) before the lookup",
    example: "user%40example.com",
  }),
});

export const Entry = z.object({
  channel: ChannelName,
  address: z.string().openapi({ description: "The address in its channel's normal form" }),
  instanceId: z.string().nullable().openapi({
    description:
      "The instance whose own entry this is (unsubscription, complaint, its suppression list), binding its deliveries only; null: the platform's, binding every instance",
  }),
  status: AddressStatusName,
  errorCount: z.number().int(),
  lastType: z.string().nullable(),
  lastReason: z.number().int().nullable(),
  lastText: z.string().nullable(),
  firstErrorAt: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  statusSince: z.string().openapi({ description: "When the address entered its current status" }),
  comment: z.string().nullable(),
  updatedAt: z.string(),
}).openapi("QuarantineEntry");

export const SetStatus = z.object({
  status: z.enum(settableStatuses),
  comment: text(1000).optional().openapi({ description: "Kept when absent" }),
}).strict().openapi("QuarantineSetStatus");

export const ImportQuery = z.object({
  channel: ChannelName,
  status: z.enum(importStatuses).default("denylisted"),
});

export const ImportResult = z.object({
  received: z.number().int().openapi({ description: "Non-empty lines, header excluded" }),
  imported: z.number().int().openapi({
    description: "Lines whose address was written (duplicates counted each time)",
  }),
  invalid: z.number().int(),
  errors: z.array(
    z.object({ line: z.number().int(), address: z.string().nullable(), error: z.string() }),
  )
    .openapi({ description: "The first 100 invalid lines, by 1-based line number in the file" }),
}).openapi("QuarantineImportResult");
