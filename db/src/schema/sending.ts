import { sql } from "drizzle-orm";
import {
  check,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * Per-domain flow state (DOMAIN §8), shared by every dispatcher of the cluster: the rate
 * window and the error statistics that suspend a domain. The core's `DomainFlowState`, plus
 * what the last suspension was about, to tell operators why a domain waits.
 */
export const domainFlow = pgTable("domain_flow", {
  domain: text("domain").primaryKey(),
  windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
  sentInWindow: integer("sent_in_window").notNull().default(0),
  statsStart: timestamp("stats_start", { withTimezone: true }).notNull(),
  results: integer("results").notNull().default(0),
  errors: integer("errors").notNull().default(0),
  suspendedUntil: timestamp("suspended_until", { withTimezone: true }),
  /** The error rate and the number of results that caused the last suspension. */
  suspendedRate: real("suspended_rate"),
  suspendedResults: integer("suspended_results"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The dispatchers that run, each with its heartbeat: how many deliveries may run at once is
 * counted for the cluster, and a delivery whose affinity no live dispatcher serves says so.
 */
export const senders = pgTable("senders", {
  id: text("id").primaryKey(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  /** Named sender pools served; empty: deliveries without an affinity only. */
  affinities: jsonb("affinities").notNull().default([]),
  /** Channels configured in this process. */
  channels: jsonb("channels").notNull().default([]),
  /** Channels configured but unable to send, with since when: `{ "sms": "<ISO>" }`. */
  down: jsonb("down").notNull().default({}),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Operator settings of a channel (email mode and relay, bounce domain; push VAPID; concurrency),
 * picked up by running dispatchers. `secrets` is write-only through the API.
 */
export const channelSettings = pgTable("channel_settings", {
  channel: text("channel").primaryKey(),
  settings: jsonb("settings").notNull().default({}),
  secrets: jsonb("secrets").notNull().default({}),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [check("channel_settings_channel_check", sql`${t.channel} in ('email', 'sms', 'push')`)]);

/** DKIM private keys by (domain, selector); the API never returns the key. */
export const dkimKeys = pgTable("dkim_keys", {
  domain: text("domain").notNull(),
  selector: text("selector").notNull(),
  privateKey: text("private_key").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.domain, t.selector] })]);
