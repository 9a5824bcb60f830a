import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * SMS providers (SMPP accounts), configured by operators and picked up by running dispatchers.
 * `settings` holds host, port, binds, window, prefixes …; `secrets` (the bind password, the HTTP
 * callback secret) is write-only through the API.
 */
export const smsProviders = pgTable("sms_providers", {
  id: text("id").primaryKey(),
  settings: jsonb("settings").notNull().default({}),
  secrets: jsonb("secrets").notNull().default({}),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Delivery reports as they arrived (SMPP receipts, provider HTTP callbacks), stored before they
 * are acknowledged, then applied to their message through the core. A report whose id matches
 * no message yet (it came before its submit_sm_resp was stored, or the id is unknown) stays
 * `waiting` and is tried again; operators see it.
 */
export const smsReports = pgTable("sms_reports", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  provider: text("provider").notNull(),
  source: text("source").notNull(),
  /** The provider's message id as the report gave it. */
  remoteId: text("remote_id").notNull(),
  stat: text("stat").notNull(),
  err: text("err"),
  text: text("text"),
  doneAt: timestamp("done_at", { withTimezone: true }),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  /** pending (not tried yet), waiting (no message matched yet), applied. */
  state: text("state").notNull().default("pending"),
  tries: integer("tries").notNull().default(0),
  retryAt: timestamp("retry_at", { withTimezone: true }),
  messageId: bigint("message_id", { mode: "number" }),
  appliedAt: timestamp("applied_at", { withTimezone: true }),
  detail: jsonb("detail"),
}, (t) => [
  index("sms_reports_pending_idx").on(t.id).where(sql`state = 'pending'`),
  index("sms_reports_waiting_idx").on(t.retryAt).where(sql`state = 'waiting'`),
  index("sms_reports_remote_idx").on(t.provider, t.remoteId),
  check("sms_reports_state_check", sql`${t.state} in ('pending', 'waiting', 'applied')`),
  check("sms_reports_source_check", sql`${t.source} in ('smpp', 'http')`),
]);

/** Mobile-originated messages (deliver_sm that is not a receipt). */
export const smsInbound = pgTable("sms_inbound", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  provider: text("provider").notNull(),
  /** The sender's number (E.164 with +) and the number it was sent to. */
  fromNumber: text("from_number").notNull(),
  toNumber: text("to_number").notNull(),
  text: text("text").notNull(),
  /** The stop keyword it matched, when it put the number on a denylist. */
  keyword: text("keyword"),
  instanceId: text("instance_id"),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index("sms_inbound_received_idx").on(t.receivedAt)]);

/**
 * Bind slots of each provider, leased by dispatcher processes so that the cluster never opens
 * more binds than the provider allows: a process opens as many binds as it holds slots.
 */
export const smsBindLeases = pgTable("sms_bind_leases", {
  provider: text("provider").notNull(),
  slot: integer("slot").notNull(),
  holder: text("holder").notNull(),
  leaseUntil: timestamp("lease_until", { withTimezone: true }).notNull(),
}, (t) => [primaryKey({ columns: [t.provider, t.slot] })]);

/** HTTP callbacks seen (by provider and signature), to refuse replays; and refused ones, for operators. */
export const smsCallbacks = pgTable("sms_callbacks", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  provider: text("provider").notNull(),
  signature: text("signature"),
  outcome: text("outcome").notNull(),
  detail: jsonb("detail"),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  // A signature accepted once is a replay the second time (a race loses on this index).
  uniqueIndex("sms_callbacks_signature_idx").on(t.provider, t.signature).where(
    sql`outcome = 'accepted'`,
  ),
  index("sms_callbacks_received_idx").on(t.receivedAt),
]);
