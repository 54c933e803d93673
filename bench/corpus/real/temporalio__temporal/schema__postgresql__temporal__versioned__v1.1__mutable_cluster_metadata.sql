ALTER TABLE cluster_metadata ADD mutable_data BYTEA;
ALTER TABLE cluster_metadata ADD mutable_data_encoding VARCHAR(16);