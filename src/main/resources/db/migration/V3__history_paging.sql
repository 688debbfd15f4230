-- Bounded history (RM_JOBS_RETENTION) and paged jobs and alerts APIs. Portable between SQLite and PostgreSQL.
-- Lists are read newest first by (time, id) and continued after a cursor (time, id): each of these
-- indexes holds both columns, so a page is a short index range, never a sort of the whole table.

-- Every job by start, the retention sweep's walk and the unfiltered list; replaces (started_at).
DROP INDEX jobs_started;
CREATE INDEX jobs_started_id ON jobs (started_at, id);

-- A host's jobs.
CREATE INDEX jobs_host_started_id ON jobs (host_id, started_at, id);

-- The retention sweep keeps the newest job of each host, kind and status: one index seek per job it looks
-- at. The same index answers the entities' start-up reads, so it replaces (host_id, kind, finished_at).
DROP INDEX jobs_host_kind_finished;
CREATE INDEX jobs_host_kind_status_finished ON jobs (host_id, kind, status, finished_at);

-- Alerts by status, and every alert (status=all); replaces (status, raised_at).
DROP INDEX alerts_status_raised;
CREATE INDEX alerts_status_raised_id ON alerts (status, raised_at, id);
CREATE INDEX alerts_raised_id ON alerts (raised_at, id);
