import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * One message per recipient of a delivery. `status`, `failure_type`, `reason` and `attempt` are
 * the core status machine's state flattened for queries; `machine` holds the rest of that state
 * (null while it is the initial one, which is what intake writes).
 *
 * No foreign key to `deliveries`: on a bulk insert of 10,000 rows the per-row referential check
 * cost about a third of the insert time (measured on PostgreSQL 15, see README "Benchmarks").
 * Messages are only ever written by intake while it holds the delivery's row lock, and a
 * delivery is never deleted while it has messages, so the reference holds by construction.
 */
export const messages = pgTable("messages", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  deliveryId: uuid("delivery_id").notNull(),
  externalId: text("external_id").notNull(),
  address: text("address"),
  /** What the address needs besides itself: a push subscription's `keys`. */
  addressData: jsonb("address_data"),
  personalization: jsonb("personalization"),
  status: text("status").notNull(),
  failureType: text("failure_type"),
  reason: smallint("reason"),
  attempt: smallint("attempt").notNull().default(1),
  nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
  providerMessageId: text("provider_message_id"),
  machine: jsonb("machine"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  // Listing and counting a delivery's messages, and finding duplicates within it.
  index("messages_delivery_status_idx").on(t.deliveryId, t.status, t.id),
  index("messages_delivery_address_idx").on(t.deliveryId, t.address),
  // Retries that come due, by time. A first attempt has no next_attempt_at: the dispatcher finds
  // it by (delivery, status) above, so intake writes one index entry less per message.
  index("messages_due_idx").on(t.nextAttemptAt).where(
    sql`status = 'pending' and next_attempt_at is not null`,
  ),
  // Asynchronous reports find their message by the provider's id.
  index("messages_provider_id_idx").on(t.providerMessageId).where(
    sql`provider_message_id is not null`,
  ),
]);

/** Status history: one row per transition of a message. */
export const messageEvents = pgTable("message_events", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  messageId: bigint("message_id", { mode: "number" }).notNull().references(() => messages.id, {
    onDelete: "cascade",
  }),
  at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  event: text("event").notNull(),
  status: text("status").notNull(),
  failureType: text("failure_type"),
  reason: smallint("reason"),
  text: text("text"),
  detail: jsonb("detail"),
}, (t) => [index("message_events_message_idx").on(t.messageId, t.id)]);
