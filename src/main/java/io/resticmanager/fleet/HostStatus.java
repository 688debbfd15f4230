package io.resticmanager.fleet;

import io.resticmanager.cluster.CborSerializable;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.store.HostRow;
import java.util.Map;

/**
 * One host as the status page's fleet table shows it: what its entity keeps in memory (online, last seen,
 * versions, the last job and last success of each kind, the last snapshot, the repository statistics, the
 * open alerts), with name and enrolment from the database. Times are epoch millis, 0 when never; sizes
 * {@code -1} when unknown. {@code live} is false for a host whose entity no node reported (shown as stored,
 * offline, with nothing known of its jobs). Immutable; crosses nodes in the pages of {@link NodeHosts.ListStatus}.
 */
public record HostStatus(String id, String name, boolean live, boolean online, long lastSeenAt, String agentVersion,
    String resticVersion, String os, long enrolledAt, Map<JobKind, Long> lastJobAt, Map<JobKind, Long> lastSuccessAt,
    long lastSnapshotAt, long lastBackupAddedBytes, long snapshots, long repositorySizeBytes, int openAlerts)
    implements CborSerializable, NodeHosts.Listed {

  public HostStatus {
    lastJobAt = Map.copyOf(lastJobAt);
    lastSuccessAt = Map.copyOf(lastSuccessAt);
    agentVersion = agentVersion == null ? "" : agentVersion;
    resticVersion = resticVersion == null ? "" : resticVersion;
    os = os == null ? "" : os;
  }

  /** The host as its entity published it to its node's view. */
  static HostStatus of(HostView v, HostSample s) {
    HostSample.Repository r = s.repository();
    return new HostStatus(v.id(), v.name(), true, v.online(), v.lastSeenAt(), v.agentVersion(), v.resticVersion(),
        v.os(), v.enrolledAt(), s.lastJobEpochMillis(), s.lastSuccessEpochMillis(),
        Math.max(0, s.lastSnapshotEpochMillis()), s.lastBackupAddedBytes(), r == null ? -1 : r.snapshots(),
        r == null ? -1 : r.sizeBytes(), s.openAlerts());
  }

  /** A host no node's view knows: as stored, offline. */
  public static HostStatus stored(HostRow r) {
    return new HostStatus(r.id(), r.name(), false, false, r.lastSeenAt(), r.agentVersion(), r.resticVersion(), r.os(),
        r.enrolledAt(), Map.of(), Map.of(), 0, -1, -1, -1, 0);
  }

  /** The same status under the stored name and enrolment (the database is the authority for both). */
  HostStatus withStored(HostRow r) {
    return new HostStatus(id, r.name(), live, online, Math.max(lastSeenAt, r.lastSeenAt()), agentVersion,
        resticVersion, os, r.enrolledAt(), lastJobAt, lastSuccessAt, lastSnapshotAt, lastBackupAddedBytes, snapshots,
        repositorySizeBytes, openAlerts);
  }
}
