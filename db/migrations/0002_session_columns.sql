ALTER TABLE "session" ALTER COLUMN "accessToken" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "session" ALTER COLUMN "accountOwner" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "session" ALTER COLUMN "accountOwner" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "session" ALTER COLUMN "collaborator" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "session" ALTER COLUMN "emailVerified" DROP DEFAULT;