alter table storage.objects add column version text default null;
