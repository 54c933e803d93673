alter table project add column auto_synced boolean not null default false;
