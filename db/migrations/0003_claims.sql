ALTER TABLE "messages" ADD COLUMN "scheduled_retries" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "backoffs_in_a_row" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "messages_first_attempts_idx" ON "messages" USING btree ("delivery_id","id") WHERE status = 'pending' and next_attempt_at is null;