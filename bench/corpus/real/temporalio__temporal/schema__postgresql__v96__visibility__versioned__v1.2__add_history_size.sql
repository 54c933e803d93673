ALTER TABLE executions_visibility ADD history_size_bytes BIGINT NOT NULL DEFAULT 0;
