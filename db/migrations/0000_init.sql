CREATE TYPE "public"."platform" AS ENUM('shopify', 'taobao', 'local');--> statement-breakpoint
CREATE TYPE "public"."render_status" AS ENUM('queued', 'running', 'retrying', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."review_state" AS ENUM('pending', 'approved', 'rejected', 'published', 'unpublished', 'publish_failed');--> statement-breakpoint
CREATE TABLE "publications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"render_id" uuid NOT NULL,
	"platform" "platform" NOT NULL,
	"product_ref" text NOT NULL,
	"external_id" text NOT NULL,
	"alt_text" text NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	"undone_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "renders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"batch_id" uuid,
	"product_ref" text NOT NULL,
	"product_title" text NOT NULL,
	"source_image_ref" text NOT NULL,
	"source_sha256" text NOT NULL,
	"source_key" text NOT NULL,
	"mask_key" text,
	"operation" text NOT NULL,
	"persona_id" text,
	"persona_version" integer,
	"market_id" text NOT NULL,
	"market_version" integer NOT NULL,
	"scene_id" text NOT NULL,
	"scene_version" integer NOT NULL,
	"backend" text NOT NULL,
	"workflow" text,
	"seed" bigint NOT NULL,
	"output_width" integer NOT NULL,
	"output_height" integer NOT NULL,
	"status" "render_status" DEFAULT 'queued' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"progress_message" text,
	"result_key" text,
	"fidelity" jsonb,
	"fidelity_score" real,
	"review_state" "review_state" DEFAULT 'pending' NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"backend_ms" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error_code" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "renders_progress_range" CHECK ("renders"."progress" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" text PRIMARY KEY NOT NULL,
	"shop" text NOT NULL,
	"state" text NOT NULL,
	"isOnline" boolean DEFAULT false NOT NULL,
	"scope" text,
	"expires" timestamp,
	"accessToken" text,
	"userId" bigint,
	"firstName" text,
	"lastName" text,
	"email" text,
	"accountOwner" boolean DEFAULT false NOT NULL,
	"locale" text,
	"collaborator" boolean DEFAULT false,
	"emailVerified" boolean DEFAULT false,
	"refreshToken" text,
	"refreshTokenExpires" timestamp
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform" "platform" NOT NULL,
	"external_id" text NOT NULL,
	"display_name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"uninstalled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "usage_ledger" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"render_id" uuid,
	"kind" text NOT NULL,
	"backend" text NOT NULL,
	"units" integer DEFAULT 1 NOT NULL,
	"backend_ms" integer DEFAULT 0 NOT NULL,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "publications" ADD CONSTRAINT "publications_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publications" ADD CONSTRAINT "publications_render_id_renders_id_fk" FOREIGN KEY ("render_id") REFERENCES "public"."renders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renders" ADD CONSTRAINT "renders_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_render_id_renders_id_fk" FOREIGN KEY ("render_id") REFERENCES "public"."renders"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "publications_live_render" ON "publications" USING btree ("render_id") WHERE "publications"."undone_at" is null;--> statement-breakpoint
CREATE INDEX "publications_tenant" ON "publications" USING btree ("tenant_id","published_at");--> statement-breakpoint
CREATE UNIQUE INDEX "renders_tenant_idempotency" ON "renders" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "renders_tenant_product" ON "renders" USING btree ("tenant_id","product_ref","created_at");--> statement-breakpoint
CREATE INDEX "renders_tenant_status" ON "renders" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_platform_external_id" ON "tenants" USING btree ("platform","external_id");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_ledger_idempotency" ON "usage_ledger" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "usage_ledger_tenant_time" ON "usage_ledger" USING btree ("tenant_id","created_at");