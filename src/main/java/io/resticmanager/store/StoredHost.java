package io.resticmanager.store;

import io.resticmanager.jobs.JobKind;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a host's entity starts from: the host row, the end of its last job and last success per
 * kind, the last backup's added bytes ({@code -1} when none) and its open alerts. Read in one read-only
 * connection.
 */
public record StoredHost(HostRow host, Map<JobKind, Long> lastJob, Map<JobKind, Long> lastSuccess,
    long lastBackupAdded, List<AlertRow> openAlerts) {

  public StoredHost {
    lastJob = Map.copyOf(lastJob);
    lastSuccess = Map.copyOf(lastSuccess);
    openAlerts = List.copyOf(openAlerts);
  }

  static Optional<StoredHost> load(Connection c, String hostId) throws SQLException {
    Optional<HostRow> host = HostStore.load(c, hostId);
    if (host.isEmpty()) return Optional.empty();
    JobStore.Latest latest = JobStore.loadLatest(c, hostId);
    return Optional.of(new StoredHost(host.get(),
        latest.lastJob().getOrDefault(hostId, Map.of()),
        latest.lastSuccess().getOrDefault(hostId, Map.of()),
        latest.lastBackupAdded().getOrDefault(hostId, -1L),
        AlertStore.loadOpen(c, hostId)));
  }
}
