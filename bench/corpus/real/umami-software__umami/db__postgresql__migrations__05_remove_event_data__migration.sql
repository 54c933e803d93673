/*
  Warnings:

  - You are about to drop the column `event_data` on the `website_event` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "website_event" DROP COLUMN "event_data";
