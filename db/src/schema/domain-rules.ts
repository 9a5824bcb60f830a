import { integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Domain / MX flow-control rules (DOMAIN §8): `example.com`, `*.example.com` or `*`.
 * `settings` holds `rate`, `suspension`, `dkim` and `relay` (milliseconds for durations) as the
 * core's `DomainRule` reads them: a key that is absent inherits from the `*` rule, a key set to
 * null is explicitly none (no limit, never suspend, no signing, no relay). JSON keeps that
 * difference where columns could not.
 */
export const domainRules = pgTable("domain_rules", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  domain: text("domain").notNull().unique(),
  settings: jsonb("settings").notNull().default({}),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
