ALTER TABLE cluster_metadata ADD data BYTEA;
ALTER TABLE cluster_metadata ADD data_encoding VARCHAR(16);