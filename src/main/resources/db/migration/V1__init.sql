-- restic-manager schema, portable between SQLite and PostgreSQL.
-- Times are epoch milliseconds (BIGINT); ids are text (UUIDs); tokens are stored as SHA-256 hex only.

CREATE TABLE hosts (
  id             VARCHAR(36)  NOT NULL PRIMARY KEY,
  name           VARCHAR(253) NOT NULL,
  enrolled_at    BIGINT       NOT NULL,
  last_seen_at   BIGINT,
  agent_version  VARCHAR(100),
  restic_version VARCHAR(100),
  os             VARCHAR(200),
  CONSTRAINT hosts_name_unique UNIQUE (name)
);

CREATE TABLE enrollment_tokens (
  token_hash   CHAR(64)    NOT NULL PRIMARY KEY,
  created_at   BIGINT      NOT NULL,
  expires_at   BIGINT      NOT NULL,
  used_at      BIGINT,
  used_by_host VARCHAR(36)
);

CREATE TABLE agent_tokens (
  token_hash CHAR(64)    NOT NULL PRIMARY KEY,
  host_id    VARCHAR(36) NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  created_at BIGINT      NOT NULL
);
CREATE INDEX agent_tokens_host ON agent_tokens (host_id);

CREATE TABLE jobs (
  id               VARCHAR(36) NOT NULL PRIMARY KEY,
  host_id          VARCHAR(36) NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  kind             VARCHAR(16) NOT NULL,
  status           VARCHAR(16),
  started_at       BIGINT      NOT NULL,
  finished_at      BIGINT,
  exit_code        INTEGER,
  error            TEXT,
  duration_seconds DOUBLE PRECISION,
  data_added       BIGINT,
  summary          TEXT,
  CONSTRAINT jobs_kind_known CHECK (kind IN ('backup', 'check', 'forget', 'prune', 'restore')),
  CONSTRAINT jobs_status_known CHECK (status IS NULL OR status IN ('succeeded', 'warning', 'failed', 'cancelled')),
  CONSTRAINT jobs_finished_complete CHECK ((status IS NULL) = (finished_at IS NULL))
);
CREATE INDEX jobs_host_kind_finished ON jobs (host_id, kind, finished_at);
CREATE INDEX jobs_started ON jobs (started_at);

CREATE TABLE alerts (
  id              VARCHAR(36) NOT NULL PRIMARY KEY,
  host_id         VARCHAR(36) NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  kind            VARCHAR(32) NOT NULL,
  severity        VARCHAR(16) NOT NULL,
  status          VARCHAR(16) NOT NULL,
  raised_at       BIGINT      NOT NULL,
  acknowledged_at BIGINT,
  resolved_at     BIGINT,
  message         TEXT        NOT NULL,
  CONSTRAINT alerts_status_known CHECK (status IN ('open', 'resolved')),
  CONSTRAINT alerts_resolved_complete CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- At most one open alert per host and kind.
CREATE UNIQUE INDEX alerts_one_open ON alerts (host_id, kind) WHERE status = 'open';
CREATE INDEX alerts_status_raised ON alerts (status, raised_at);
