import { boolean, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** A campaign instance: the tenant that owns deliveries and messages. */
export const instances = pgTable("instances", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * API keys, stored as SHA-256 hashes (a key is 32 random bytes, so a plain hash suffices; no
 * slow KDF is needed for a secret nobody chose). `prefix` is the key's first characters, shown
 * to operators to tell keys apart; the key itself is never stored or logged.
 */
export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  instanceId: uuid("instance_id").notNull().references(() => instances.id, { onDelete: "cascade" }),
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  operator: boolean("operator").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
}, (t) => [index("api_keys_instance_idx").on(t.instanceId)]);
