ALTER TABLE hydra_jwk DROP COLUMN created_at;
