alter table storage.buckets add column avif_autodetection bool default false;
