ALTER TABLE current_executions ADD COLUMN attached_request_ids BYTEA NULL;
