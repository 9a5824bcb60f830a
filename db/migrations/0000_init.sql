CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"operator" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "instances_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"external_ref" text,
	"content" jsonb NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"retry_policy" jsonb,
	"affinity" text,
	"scheduled_at" timestamp with time zone,
	"control_group" jsonb,
	"max_target_size" integer,
	"targeted" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "message_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "message_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"message_id" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"event" text NOT NULL,
	"status" text NOT NULL,
	"failure_type" text,
	"reason" smallint,
	"text" text,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"address" text,
	"address_data" jsonb,
	"personalization" jsonb,
	"status" text NOT NULL,
	"failure_type" text,
	"reason" smallint,
	"attempt" smallint DEFAULT 1 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"provider_message_id" text,
	"machine" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"channel" text NOT NULL,
	"address" text NOT NULL,
	"status" text NOT NULL,
	"error_count" integer DEFAULT 0 NOT NULL,
	"last_type" text,
	"last_reason" smallint,
	"last_text" text,
	"cause_text" text,
	"cause_rule_id" text,
	"first_error_at" timestamp with time zone,
	"last_error_at" timestamp with time zone,
	"status_since" timestamp with time zone DEFAULT now() NOT NULL,
	"comment" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quarantine_channel_address_pk" PRIMARY KEY("channel","address")
);
--> statement-breakpoint
CREATE TABLE "qualification_entries" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "qualification_entries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"channel" text NOT NULL,
	"normalized_text" text NOT NULL,
	"first_text" text NOT NULL,
	"type" text NOT NULL,
	"reason" smallint NOT NULL,
	"status" text NOT NULL,
	"rule_id" text,
	"count" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "qualification_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"layer" text NOT NULL,
	"channel" text NOT NULL,
	"pattern" text NOT NULL,
	"regex" boolean DEFAULT false NOT NULL,
	"type" text NOT NULL,
	"reason" smallint NOT NULL,
	"retry" text,
	"pause_delivery" boolean DEFAULT false NOT NULL,
	"note" text,
	"position" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domain_rules" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "domain_rules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"domain" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domain_rules_domain_unique" UNIQUE("domain")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"instance_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_instance_id_key_pk" PRIMARY KEY("instance_id","key")
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "job_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"job" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"detail" jsonb
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_instance_idx" ON "api_keys" USING btree ("instance_id");--> statement-breakpoint
CREATE INDEX "deliveries_instance_created_idx" ON "deliveries" USING btree ("instance_id","created_at","id");--> statement-breakpoint
CREATE INDEX "message_events_message_idx" ON "message_events" USING btree ("message_id","id");--> statement-breakpoint
CREATE INDEX "messages_delivery_status_idx" ON "messages" USING btree ("delivery_id","status","id");--> statement-breakpoint
CREATE INDEX "messages_delivery_address_idx" ON "messages" USING btree ("delivery_id","address");--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "messages_provider_id_idx" ON "messages" USING btree ("provider_message_id") WHERE provider_message_id is not null;--> statement-breakpoint
CREATE INDEX "quarantine_status_idx" ON "quarantine" USING btree ("status","channel");--> statement-breakpoint
CREATE INDEX "quarantine_cause_idx" ON "quarantine" USING btree ("cause_text","status_since");--> statement-breakpoint
CREATE UNIQUE INDEX "qualification_entries_text_idx" ON "qualification_entries" USING btree ("channel","normalized_text");--> statement-breakpoint
CREATE INDEX "qualification_entries_status_idx" ON "qualification_entries" USING btree ("status","channel");--> statement-breakpoint
CREATE INDEX "qualification_rules_layer_idx" ON "qualification_rules" USING btree ("layer","channel","position");--> statement-breakpoint
CREATE INDEX "job_runs_job_idx" ON "job_runs" USING btree ("job","started_at");