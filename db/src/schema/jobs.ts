import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { instances } from "./instances.ts";

/** One row per run of a background job (deliverability update, cleanup, tracking). */
export const jobRuns = pgTable("job_runs", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  job: text("job").notNull(),
  status: text("status").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
  detail: jsonb("detail"),
}, (t) => [index("job_runs_job_idx").on(t.job, t.startedAt)]);

/**
 * Answers kept for `Idempotency-Key`: a retried call with the same key gets the first answer
 * back and writes nothing twice. `request_hash` catches a key reused for a different request.
 */
export const idempotencyKeys = pgTable("idempotency_keys", {
  instanceId: uuid("instance_id").notNull().references(() => instances.id, { onDelete: "cascade" }),
  key: text("key").notNull(),
  requestHash: text("request_hash").notNull(),
  status: integer("status").notNull(),
  body: jsonb("body").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.instanceId, t.key] })]);
