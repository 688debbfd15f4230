-- Bounded history (RM_JOBS_RETENTION) and paged jobs and alerts APIs. Portable between SQLite and PostgreSQL.

-- A host's jobs newest first, page after page, without sorting the host's whole history.
CREATE INDEX jobs_host_started ON jobs (host_id, started_at);

-- The retention sweep keeps the newest job of each host, kind and status: one index seek per job it looks
-- at. The same index answers the entities' start-up reads, so it replaces (host_id, kind, finished_at).
DROP INDEX jobs_host_kind_finished;
CREATE INDEX jobs_host_kind_status_finished ON jobs (host_id, kind, status, finished_at);

-- Every alert newest first (status=all), page after page.
CREATE INDEX alerts_raised ON alerts (raised_at);
