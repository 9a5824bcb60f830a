import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/** Raw bytes (a report is any octets: 8-bit MIME, NUL bytes, garbage). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
});

/**
 * Incoming email reports (bounces, auto-replies, ARF complaints) as they arrived: the raw message
 * is stored before the SMTP session answers 250 (or the importer moves on), then parsed, attributed
 * to the message it is about and applied through the core. One that names no message is kept
 * (`unmatched`) and visible to operators; one that failed to apply is tried again.
 */
export const emailReports = pgTable("email_reports", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  /** `smtp` (the bounce listener) or `import` (`npm run bounces -- import`). */
  source: text("source").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  /** The SMTP envelope (null sender as ""), when it came by SMTP. */
  envelopeFrom: text("envelope_from"),
  envelopeTo: text("envelope_to"),
  /** Where an imported report came from (file, index in an mbox). */
  origin: text("origin"),
  raw: bytea("raw").notNull(),
  size: integer("size").notNull(),
  /** pending (not parsed yet), waiting (tried again later), applied, unmatched, ignored. */
  state: text("state").notNull().default("pending"),
  /** What the parser found: dsn, autoReply, complaint, unknown. */
  kind: text("kind"),
  messageId: bigint("message_id", { mode: "number" }),
  tries: integer("tries").notNull().default(0),
  retryAt: timestamp("retry_at", { withTimezone: true }),
  appliedAt: timestamp("applied_at", { withTimezone: true }),
  /** The recipients as qualified, the attribution, an error. */
  detail: jsonb("detail"),
}, (t) => [
  index("email_reports_pending_idx").on(t.id).where(sql`state = 'pending'`),
  index("email_reports_waiting_idx").on(t.retryAt).where(sql`state = 'waiting'`),
  index("email_reports_received_idx").on(t.receivedAt),
  check(
    "email_reports_state_check",
    sql`${t.state} in ('pending', 'waiting', 'applied', 'unmatched', 'ignored')`,
  ),
  check("email_reports_source_check", sql`${t.source} in ('smtp', 'import')`),
]);
