ALTER TABLE "webhook_events" ADD COLUMN "event_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_topic_event" ON "webhook_events" USING btree ("topic","event_id");