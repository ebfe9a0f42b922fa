CREATE TYPE "public"."bulk_item_status" AS ENUM('pending', 'queued', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."bulk_run_status" AS ENUM('estimating', 'awaiting_confirmation', 'running', 'paused', 'canceled', 'completed', 'failed');--> statement-breakpoint
CREATE TABLE "backend_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"type" text NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"credentials_enc" text,
	"slots" integer DEFAULT 1 NOT NULL,
	"operations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cost_per_second" real DEFAULT 0 NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"last_check" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backend_configs_slots_range" CHECK ("backend_configs"."slots" between 1 and 64)
);
--> statement-breakpoint
CREATE TABLE "bulk_run_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"run_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"product_ref" text NOT NULL,
	"product_title" text NOT NULL,
	"image_ref" text NOT NULL,
	"look_index" integer NOT NULL,
	"status" "bulk_item_status" DEFAULT 'pending' NOT NULL,
	"render_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error_code" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bulk_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"status" "bulk_run_status" DEFAULT 'estimating' NOT NULL,
	"selection" jsonb NOT NULL,
	"looks" jsonb NOT NULL,
	"images" jsonb NOT NULL,
	"estimate" jsonb,
	"max_in_flight" integer DEFAULT 20 NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"source_operation" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backend_configs" ADD CONSTRAINT "backend_configs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_run_items" ADD CONSTRAINT "bulk_run_items_run_id_bulk_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."bulk_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_run_items" ADD CONSTRAINT "bulk_run_items_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_run_items" ADD CONSTRAINT "bulk_run_items_render_id_renders_id_fk" FOREIGN KEY ("render_id") REFERENCES "public"."renders"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bulk_runs" ADD CONSTRAINT "bulk_runs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backend_configs_tenant_name" ON "backend_configs" USING btree (coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid),"name");--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_run_items_unique" ON "bulk_run_items" USING btree ("run_id","product_ref","image_ref","look_index");--> statement-breakpoint
CREATE INDEX "bulk_run_items_run_status" ON "bulk_run_items" USING btree ("run_id","status");--> statement-breakpoint
CREATE INDEX "bulk_run_items_render" ON "bulk_run_items" USING btree ("render_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_runs_tenant_idempotency" ON "bulk_runs" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "bulk_runs_tenant_time" ON "bulk_runs" USING btree ("tenant_id","created_at");