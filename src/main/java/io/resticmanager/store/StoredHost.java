package io.resticmanager.store;

import io.resticmanager.jobs.JobKind;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a host's entity starts from: the host row, the end of its last job and last success per
 * kind, the last backup's added bytes ({@code -1} when none), its open alerts, the end of its last backup
 * that made a snapshot ({@code 0} when none) and its latest repository statistics. Read in one read-only
 * connection.
 */
public record StoredHost(HostRow host, Map<JobKind, Long> lastJob, Map<JobKind, Long> lastSuccess,
    long lastBackupAdded, List<AlertRow> openAlerts, long lastSnapshot,
    Optional<RepositoryStatsRow> repositoryStats) {

  public StoredHost {
    lastJob = Map.copyOf(lastJob);
    lastSuccess = Map.copyOf(lastSuccess);
    openAlerts = List.copyOf(openAlerts);
    Objects.requireNonNull(repositoryStats, "repositoryStats");
  }

  static Optional<StoredHost> load(Connection c, String hostId) throws SQLException {
    Optional<HostRow> host = HostStore.load(c, hostId);
    if (host.isEmpty()) return Optional.empty();
    JobStore.Latest latest = JobStore.loadLatest(c, hostId);
    return Optional.of(new StoredHost(host.get(),
        latest.lastJob().getOrDefault(hostId, Map.of()),
        latest.lastSuccess().getOrDefault(hostId, Map.of()),
        latest.lastBackupAdded().getOrDefault(hostId, -1L),
        AlertStore.loadOpen(c, hostId),
        JobStore.lastSnapshot(c, hostId),
        HostStore.loadRepositoryStats(c, hostId)));
  }
}
