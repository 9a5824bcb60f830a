CREATE TABLE "sms_bind_leases" (
	"provider" text NOT NULL,
	"slot" integer NOT NULL,
	"holder" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	CONSTRAINT "sms_bind_leases_provider_slot_pk" PRIMARY KEY("provider","slot")
);
--> statement-breakpoint
CREATE TABLE "sms_callbacks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sms_callbacks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"signature" text,
	"outcome" text NOT NULL,
	"detail" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sms_inbound" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sms_inbound_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"from_number" text NOT NULL,
	"to_number" text NOT NULL,
	"text" text NOT NULL,
	"keyword" text,
	"instance_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sms_providers" (
	"id" text PRIMARY KEY NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sms_reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sms_reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"source" text NOT NULL,
	"remote_id" text NOT NULL,
	"stat" text NOT NULL,
	"err" text,
	"text" text,
	"done_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"tries" integer DEFAULT 0 NOT NULL,
	"retry_at" timestamp with time zone,
	"message_id" bigint,
	"applied_at" timestamp with time zone,
	"detail" jsonb,
	CONSTRAINT "sms_reports_state_check" CHECK ("sms_reports"."state" in ('pending', 'waiting', 'applied')),
	CONSTRAINT "sms_reports_source_check" CHECK ("sms_reports"."source" in ('smpp', 'http'))
);
--> statement-breakpoint
DROP INDEX "messages_provider_id_idx";--> statement-breakpoint
ALTER TABLE "senders" ADD COLUMN "down" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "sms_callbacks_signature_idx" ON "sms_callbacks" USING btree ("provider","signature") WHERE outcome = 'accepted';--> statement-breakpoint
CREATE INDEX "sms_callbacks_received_idx" ON "sms_callbacks" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "sms_inbound_received_idx" ON "sms_inbound" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "sms_reports_pending_idx" ON "sms_reports" USING btree ("id") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "sms_reports_waiting_idx" ON "sms_reports" USING btree ("retry_at") WHERE state = 'waiting';--> statement-breakpoint
CREATE INDEX "sms_reports_remote_idx" ON "sms_reports" USING btree ("provider","remote_id");--> statement-breakpoint
CREATE INDEX "messages_provider_id_idx" ON "messages" USING btree ("provider","provider_message_id") WHERE provider_message_id is not null;