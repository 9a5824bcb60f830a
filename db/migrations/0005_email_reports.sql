CREATE TABLE "email_reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "email_reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"envelope_from" text,
	"envelope_to" text,
	"origin" text,
	"raw" "bytea" NOT NULL,
	"size" integer NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"kind" text,
	"message_id" bigint,
	"tries" integer DEFAULT 0 NOT NULL,
	"retry_at" timestamp with time zone,
	"applied_at" timestamp with time zone,
	"detail" jsonb,
	CONSTRAINT "email_reports_state_check" CHECK ("email_reports"."state" in ('pending', 'waiting', 'applied', 'unmatched', 'ignored')),
	CONSTRAINT "email_reports_source_check" CHECK ("email_reports"."source" in ('smtp', 'import'))
);
--> statement-breakpoint
CREATE INDEX "email_reports_pending_idx" ON "email_reports" USING btree ("id") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "email_reports_waiting_idx" ON "email_reports" USING btree ("retry_at") WHERE state = 'waiting';--> statement-breakpoint
CREATE INDEX "email_reports_received_idx" ON "email_reports" USING btree ("received_at");