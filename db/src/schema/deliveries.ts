import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { instances } from "./instances.ts";

/**
 * A delivery: one message template for one channel, and its recipients (messages) added in parts.
 * Lifecycle: draft (parts may be added) → running (started; parts may still be added) →
 * finished or cancelled (no more parts).
 */
export const deliveries = pgTable("deliveries", {
  id: uuid("id").primaryKey().defaultRandom(),
  instanceId: uuid("instance_id").notNull().references(() => instances.id, { onDelete: "cascade" }),
  channel: text("channel").notNull(),
  state: text("state").notNull().default("draft"),
  externalRef: text("external_ref"),
  /** Channel content (subject, text, html … / sender, text / title, body …), as validated at intake. */
  content: jsonb("content").notNull(),
  validUntil: timestamp("valid_until", { withTimezone: true }).notNull(),
  /** Per-delivery retry policy override (core `RetryPolicy`), null for the default. */
  retryPolicy: jsonb("retry_policy"),
  affinity: text("affinity"),
  scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
  /** Control group: `{ ratio }` and/or `{ externalIds: [...] }`. */
  controlGroup: jsonb("control_group"),
  maxTargetSize: integer("max_target_size"),
  /** Recipients in the target so far (pending or control group), for the target size limit. */
  targeted: integer("targeted").notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  startedAt: timestamp("started_at", { withTimezone: true }),
  cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
  /** Higher goes first: transactional deliveries pass ahead of bulk ones. */
  priority: smallint("priority").notNull().default(0),
  /** When it may send: `{ timeZone, days: [1..7], from: "08:00", to: "20:00" }`; null: any time. */
  sendingWindow: jsonb("sending_window"),
  /** Set when sending stopped for a reason of ours (push 401/403: VAPID configuration). */
  pausedAt: timestamp("paused_at", { withTimezone: true }),
  pauseReason: text("pause_reason"),
}, (t) => [
  index("deliveries_instance_created_idx").on(t.instanceId, t.createdAt, t.id),
  // The dispatcher's question, every tick: which deliveries run, in priority order.
  index("deliveries_running_idx").on(t.priority, t.startedAt).where(sql`state = 'running'`),
  check("deliveries_channel_check", sql`${t.channel} in ('email', 'sms', 'push')`),
  check(
    "deliveries_state_check",
    sql`${t.state} in ('draft', 'running', 'cancelled', 'finished')`,
  ),
]);
