ALTER TABLE identity_credentials DROP COLUMN version;
