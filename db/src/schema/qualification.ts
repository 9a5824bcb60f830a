import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/** The qualification table (DOMAIN §6): each distinct error once per channel. */
export const qualificationEntries = pgTable("qualification_entries", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  channel: text("channel").notNull(),
  normalizedText: text("normalized_text").notNull(),
  firstText: text("first_text").notNull(),
  type: text("type").notNull(),
  reason: smallint("reason").notNull(),
  status: text("status").notNull(),
  ruleId: text("rule_id"),
  count: integer("count").notNull().default(1),
  firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex("qualification_entries_text_idx").on(t.channel, t.normalizedText),
  index("qualification_entries_status_idx").on(t.status, t.channel),
  check("qualification_entries_channel_check", sql`${t.channel} in ('email', 'sms', 'push')`),
  check(
    "qualification_entries_type_check",
    sql`${t.type} in ('hard', 'soft', 'ignored', 'undefined')`,
  ),
  check(
    "qualification_entries_status_check",
    sql`${t.status} in ('toQualify', 'keep', 'ignore')`,
  ),
]);

/** Qualification rules, the shipped layer and the operator layer kept apart by `layer`. */
export const qualificationRules = pgTable("qualification_rules", {
  id: text("id").primaryKey(),
  layer: text("layer").notNull(),
  channel: text("channel").notNull(),
  pattern: text("pattern").notNull(),
  regex: boolean("regex").notNull().default(false),
  type: text("type").notNull(),
  reason: smallint("reason").notNull(),
  retry: text("retry"),
  pauseDelivery: boolean("pause_delivery").notNull().default(false),
  note: text("note"),
  /** Matching order within the layer. */
  position: integer("position").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index("qualification_rules_layer_idx").on(t.layer, t.channel, t.position),
  check("qualification_rules_layer_check", sql`${t.layer} in ('shipped', 'operator')`),
  check("qualification_rules_channel_check", sql`${t.channel} in ('email', 'sms', 'push')`),
  check(
    "qualification_rules_type_check",
    sql`${t.type} in ('hard', 'soft', 'ignored', 'undefined')`,
  ),
  check(
    "qualification_rules_retry_check",
    sql`${t.retry} is null or ${t.retry} in ('schedule', 'backoff', 'never')`,
  ),
]);
