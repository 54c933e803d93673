ALTER TABLE identity_credentials ADD version INT NOT NULL DEFAULT '0';
