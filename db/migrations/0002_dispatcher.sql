CREATE TABLE "delivery_counters" (
	"delivery_id" uuid NOT NULL,
	"status" text NOT NULL,
	"reason" smallint DEFAULT -1 NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "delivery_counters_delivery_id_status_reason_pk" PRIMARY KEY("delivery_id","status","reason")
);
--> statement-breakpoint
CREATE TABLE "channel_settings" (
	"channel" text PRIMARY KEY NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_settings_channel_check" CHECK ("channel_settings"."channel" in ('email', 'sms', 'push'))
);
--> statement-breakpoint
CREATE TABLE "dkim_keys" (
	"domain" text NOT NULL,
	"selector" text NOT NULL,
	"private_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dkim_keys_domain_selector_pk" PRIMARY KEY("domain","selector")
);
--> statement-breakpoint
CREATE TABLE "domain_flow" (
	"domain" text PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"sent_in_window" integer DEFAULT 0 NOT NULL,
	"stats_start" timestamp with time zone NOT NULL,
	"results" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"suspended_until" timestamp with time zone,
	"suspended_rate" real,
	"suspended_results" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "senders" (
	"id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"affinities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "message_events" DROP CONSTRAINT "message_events_message_id_messages_id_fk";
--> statement-breakpoint
DROP INDEX "messages_provider_id_idx";--> statement-breakpoint
ALTER TABLE "quarantine" DROP CONSTRAINT "quarantine_channel_address_pk";--> statement-breakpoint
ALTER TABLE "message_events" DROP CONSTRAINT "message_events_pkey";--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_at_id_pk" PRIMARY KEY("at","id");--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "priority" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "sending_window" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "pause_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "domain" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "scope" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "quarantine" ADD CONSTRAINT "quarantine_channel_address_scope_pk" PRIMARY KEY("channel","address","scope");--> statement-breakpoint
CREATE INDEX "deliveries_running_idx" ON "deliveries" USING btree ("priority","started_at") WHERE state = 'running';--> statement-breakpoint
CREATE INDEX "messages_lease_idx" ON "messages" USING btree ("lease_until") WHERE status = 'prepared';--> statement-breakpoint
CREATE UNIQUE INDEX "messages_provider_id_idx" ON "messages" USING btree ("provider","provider_message_id") WHERE provider_message_id is not null;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_channel_check" CHECK ("deliveries"."channel" in ('email', 'sms', 'push'));--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_state_check" CHECK ("deliveries"."state" in ('draft', 'running', 'cancelled', 'finished'));--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_status_check" CHECK ("messages"."status" in ('pending', 'prepared', 'sentToProvider', 'takenIntoAccount', 'sent', 'receivedOnMobile', 'failed', 'ignored', 'cancelled', 'notApplicable'));--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_failure_type_check" CHECK ("messages"."failure_type" in ('hard', 'soft', 'ignored', 'undefined'));--> statement-breakpoint
ALTER TABLE "quarantine" ADD CONSTRAINT "quarantine_channel_check" CHECK ("quarantine"."channel" in ('email', 'sms', 'push'));--> statement-breakpoint
ALTER TABLE "quarantine" ADD CONSTRAINT "quarantine_status_check" CHECK ("quarantine"."status" in ('valid', 'erroneous', 'quarantined', 'denylisted', 'allowlisted'));--> statement-breakpoint
ALTER TABLE "qualification_entries" ADD CONSTRAINT "qualification_entries_channel_check" CHECK ("qualification_entries"."channel" in ('email', 'sms', 'push'));--> statement-breakpoint
ALTER TABLE "qualification_entries" ADD CONSTRAINT "qualification_entries_type_check" CHECK ("qualification_entries"."type" in ('hard', 'soft', 'ignored', 'undefined'));--> statement-breakpoint
ALTER TABLE "qualification_entries" ADD CONSTRAINT "qualification_entries_status_check" CHECK ("qualification_entries"."status" in ('toQualify', 'keep', 'ignore'));--> statement-breakpoint
ALTER TABLE "qualification_rules" ADD CONSTRAINT "qualification_rules_layer_check" CHECK ("qualification_rules"."layer" in ('shipped', 'operator'));--> statement-breakpoint
ALTER TABLE "qualification_rules" ADD CONSTRAINT "qualification_rules_channel_check" CHECK ("qualification_rules"."channel" in ('email', 'sms', 'push'));--> statement-breakpoint
ALTER TABLE "qualification_rules" ADD CONSTRAINT "qualification_rules_type_check" CHECK ("qualification_rules"."type" in ('hard', 'soft', 'ignored', 'undefined'));--> statement-breakpoint
ALTER TABLE "qualification_rules" ADD CONSTRAINT "qualification_rules_retry_check" CHECK ("qualification_rules"."retry" is null or "qualification_rules"."retry" in ('schedule', 'backoff', 'never'));--> statement-breakpoint
-- Existing data: the recipient domain of email messages, and the counters of every delivery.
UPDATE "messages" SET "domain" = lower(split_part("address", '@', 2))
  FROM "deliveries" WHERE "deliveries"."id" = "messages"."delivery_id"
  AND "deliveries"."channel" = 'email' AND "messages"."address" IS NOT NULL;--> statement-breakpoint
INSERT INTO "delivery_counters" ("delivery_id", "status", "reason", "count")
  SELECT "delivery_id", "status", coalesce("reason", -1), count(*)::int FROM "messages"
  GROUP BY "delivery_id", "status", coalesce("reason", -1);
