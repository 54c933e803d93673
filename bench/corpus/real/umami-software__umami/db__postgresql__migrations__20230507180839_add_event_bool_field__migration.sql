-- AlterTable
ALTER TABLE "event_data" ADD COLUMN     "event_bool_value" BOOLEAN;
