-- AlterTable
ALTER TABLE "website" ADD COLUMN     "favicon" VARCHAR(500);
