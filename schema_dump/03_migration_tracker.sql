-- ddlkit migration tracker: one row per file, in apply order (test mode).
-- Checksums are recomputed from the files. Regenerate with `ddlkit dump --tracker-only`.
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('migrations/0001_t.sql', 'a288f24095eb2cfb798c92c28cbc1aa9') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
