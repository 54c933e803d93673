ALTER TABLE hydra_client DROP COLUMN client_secret_expires_at;
