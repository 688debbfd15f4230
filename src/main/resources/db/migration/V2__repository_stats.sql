-- The latest repository statistics each host's agent sent (repository.stats), one row per host.
-- Portable between SQLite and PostgreSQL; times are epoch milliseconds, sizes bytes.

CREATE TABLE repository_stats (
  host_id                       VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
  collected_at                  BIGINT      NOT NULL,
  snapshot_count                BIGINT      NOT NULL,
  total_size_bytes              BIGINT      NOT NULL,
  total_uncompressed_size_bytes BIGINT,
  CONSTRAINT repository_stats_not_negative CHECK (snapshot_count >= 0 AND total_size_bytes >= 0
    AND (total_uncompressed_size_bytes IS NULL OR total_uncompressed_size_bytes >= 0))
);
