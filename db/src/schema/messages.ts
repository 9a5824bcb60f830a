import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

const STATUSES = sql.raw(
  `'pending', 'prepared', 'sentToProvider', 'takenIntoAccount', 'sent', 'receivedOnMobile', 'failed', 'ignored', 'cancelled', 'notApplicable'`,
);
const TYPES = sql.raw(`'hard', 'soft', 'ignored', 'undefined'`);

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
  /** Which provider gave `provider_message_id` (ids are unique per provider only). */
  provider: text("provider"),
  /** The recipient domain (email), the key of the domain rules and their flow state. */
  domain: text("domain"),
  /** The dispatcher holding the message (`prepared`) and until when; past it, another claims it. */
  claimedBy: text("claimed_by"),
  leaseUntil: timestamp("lease_until", { withTimezone: true }),
  /**
   * Retries used so far along the delivery's schedule, and back-off retries in a row since the
   * last scheduled one (a busy provider): what the core's `nextRetryAt` needs.
   */
  scheduledRetries: smallint("scheduled_retries").notNull().default(0),
  backoffsInARow: smallint("backoffs_in_a_row").notNull().default(0),
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
  // Asynchronous reports find their message by the provider's id, scoped by provider. Not
  // unique: an SMSC that restarts may hand out an id again, and a unique violation would fail
  // a whole batch (the report goes to the latest message with that id).
  index("messages_provider_id_idx").on(t.provider, t.providerMessageId).where(
    sql`provider_message_id is not null`,
  ),
  // First attempts waiting, by delivery: what the dispatcher claims most.
  index("messages_first_attempts_idx").on(t.deliveryId, t.id).where(
    sql`status = 'pending' and next_attempt_at is null`,
  ),
  // Claims whose dispatcher died: found by their lease.
  index("messages_lease_idx").on(t.leaseUntil).where(sql`status = 'prepared'`),
  check("messages_status_check", sql`${t.status} in (${STATUSES})`),
  check("messages_failure_type_check", sql`${t.failureType} in (${TYPES})`),
]);

/**
 * Status history: one row per transition of a message. Keyed by (at, id) and without a foreign
 * key so that it can be partitioned by time (range on `at`) and old history dropped a partition
 * at a time by the cleanup job.
 */
export const messageEvents = pgTable("message_events", {
  id: bigint("id", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
  messageId: bigint("message_id", { mode: "number" }).notNull(),
  at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  event: text("event").notNull(),
  status: text("status").notNull(),
  failureType: text("failure_type"),
  reason: smallint("reason"),
  text: text("text"),
  detail: jsonb("detail"),
}, (t) => [
  primaryKey({ columns: [t.at, t.id] }),
  index("message_events_message_idx").on(t.messageId, t.id),
]);

/**
 * A delivery's messages counted by (status, reason), kept in the transactions that change them
 * so that reading a delivery never counts its messages. `reason` is -1 for none.
 */
export const deliveryCounters = pgTable("delivery_counters", {
  deliveryId: uuid("delivery_id").notNull(),
  status: text("status").notNull(),
  reason: smallint("reason").notNull().default(-1),
  count: integer("count").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.deliveryId, t.status, t.reason] })]);
