-- 0209: btree on user_events(blocknumber), so the incremental processors'
-- dirty scan (blocknumber > checkpoint ORDER BY blocknumber LIMIT batch) is an
-- index range read instead of a sequential scan of every user_events row.
--
-- CONCURRENTLY: the table is large and written by the indexer; a plain CREATE
-- INDEX would block its writes for the whole build. The runner sees the
-- keyword and runs this file outside a transaction, and this file holds
-- nothing else, because CONCURRENTLY cannot run inside one.
--
-- If a build is interrupted, PostgreSQL leaves an INVALID index behind and
-- IF NOT EXISTS would then skip it forever; ddl/preflight checks for that.

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_user_events_blocknumber ON user_events (blocknumber);
