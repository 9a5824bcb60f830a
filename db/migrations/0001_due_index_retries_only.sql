DROP INDEX "messages_due_idx";--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at") WHERE status = 'pending' and next_attempt_at is not null;