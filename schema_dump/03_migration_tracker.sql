-- ddlkit migration tracker: one row per file, in apply order (test mode).
-- Checksums are recomputed from the files. Regenerate with `ddlkit dump --tracker-only`.
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('utils/try_parse_integer.sql', '00e1c6c2a2517a9825d9415666948131') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('migrations/0001_baseline_challenges_schema.sql', 'a7d78bf4901d69675e0beeaabb4abd0b') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('migrations/0209_user_events_blocknumber_idx.sql', 'a65898963f53757e5f38d43f998aea50') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('migrations/0210_notification_cooldown_gin.sql', 'd104b322269ff53f9ed0001e1b598242') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('migrations/0211_seed_phase_3_user_event_checkpoints.sql', '2483a1df62cb276513e795d3fbf2a002') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('functions/challenge_user_event_processors.sql', '0969c3ec819d6deecb6225e2ff574547') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('functions/handle_challenge_disbursements.sql', '2209be6fc43209afe14f8ece766923a9') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
INSERT INTO "public"."schema_version" (file_name, md5) VALUES ('functions/handle_user_challenges.sql', '60ee9501f0bd4963b70150f247b2e028') ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;
