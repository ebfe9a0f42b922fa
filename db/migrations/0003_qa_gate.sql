ALTER TABLE "renders" ADD COLUMN "gate_passed" boolean;--> statement-breakpoint
ALTER TABLE "renders" ADD COLUMN "gate_retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "renders" ADD COLUMN "review_reasons" jsonb DEFAULT '[]'::jsonb NOT NULL;