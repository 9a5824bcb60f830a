import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * One quarantine table for all channels (DOMAIN §7), keyed by (channel, address). `cause_text`
 * and `cause_rule_id` remember the normalized error text and rule that put the address in its
 * status, so that a re-qualification can release exactly the quarantines a text caused.
 */
export const quarantine = pgTable("quarantine", {
  channel: text("channel").notNull(),
  address: text("address").notNull(),
  /**
   * Whose entry (DOMAIN §7): `''` for the platform's (what delivery errors teach about the
   * address, the operator's denylist), an instance's id for its own (unsubscriptions,
   * complaints, suppression lists): those bind only that instance's deliveries.
   */
  scope: text("scope").notNull().default(""),
  status: text("status").notNull(),
  errorCount: integer("error_count").notNull().default(0),
  lastType: text("last_type"),
  lastReason: smallint("last_reason"),
  lastText: text("last_text"),
  causeText: text("cause_text"),
  causeRuleId: text("cause_rule_id"),
  firstErrorAt: timestamp("first_error_at", { withTimezone: true }),
  lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
  statusSince: timestamp("status_since", { withTimezone: true }).notNull().defaultNow(),
  comment: text("comment"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.channel, t.address, t.scope] }),
  check("quarantine_channel_check", sql`${t.channel} in ('email', 'sms', 'push')`),
  check(
    "quarantine_status_check",
    sql`${t.status} in ('valid', 'erroneous', 'quarantined', 'denylisted', 'allowlisted')`,
  ),
  index("quarantine_status_idx").on(t.status, t.channel),
  index("quarantine_cause_idx").on(t.causeText, t.statusSince),
]);
