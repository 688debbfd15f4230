package io.resticmanager.fleet;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.RepositoryStatsRow;
import java.util.EnumMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One host's live state. Mutable, owned by its {@link HostEntity}, never shared outside it. Times are epoch millis.
 *
 * <p>What {@code /metrics} shows of the host is built once into an immutable {@link HostSample} and
 * kept until {@link #changed()}, so a scrape of an unchanged host allocates nothing. The per-kind job
 * maps are immutable and replaced on change, so even a rebuilt sample shares them instead of copying.
 */
final class HostState {
  final String id;
  final String name;
  final long enrolledAt;
  long lastSeen;
  boolean lastSeenDirty;
  String agentVersion;
  String resticVersion;
  String os;
  /** The agent's socket, on whichever node; null while the agent is not connected. */
  ActorRef<AgentLink> connection;
  /** Immutable; replaced by {@link #jobFinished}. */
  Map<JobKind, Long> lastJob = Map.of();
  /** Immutable; replaced by {@link #jobFinished}. */
  Map<JobKind, Long> lastSuccess = Map.of();
  long lastBackupAdded = -1;
  /** When the backup that {@link #lastBackupAdded} comes from finished; 0 when unknown (after a restart). */
  long lastBackupAddedAt;
  /** The end of the last backup that made a snapshot ({@code succeeded} or {@code warning}); 0 when none. */
  long lastSnapshot;
  /** The agent's latest {@code repository.stats}; null when it never sent any. */
  HostSample.Repository repository;
  final Map<AlertKind, AlertRow> openAlerts = new EnumMap<>(AlertKind.class);
  /** {@link #sample()} as last built; null when something it shows changed since. */
  private HostSample sample;

  HostState(String id, String name, long enrolledAt, long lastSeen, String agentVersion, String resticVersion,
      String os) {
    this.id = id;
    this.name = name;
    this.enrolledAt = enrolledAt;
    this.lastSeen = lastSeen;
    this.agentVersion = agentVersion;
    this.resticVersion = resticVersion;
    this.os = os;
  }

  boolean online() {
    return connection != null;
  }

  /** A job of {@code kind} finished at {@code at}; the newest end per kind is kept. */
  void jobFinished(JobKind kind, JobStatus status, long at) {
    lastJob = later(lastJob, kind, at);
    if (status == JobStatus.SUCCEEDED) lastSuccess = later(lastSuccess, kind, at);
    if (AlertRules.madeSnapshot(kind, status)) lastSnapshot = Math.max(lastSnapshot, at);
  }

  /** The statistics as {@code /metrics} shows them. */
  static HostSample.Repository repository(RepositoryStatsRow r) {
    return new HostSample.Repository(r.snapshotCount(), r.totalSizeBytes(),
        r.totalUncompressedSizeBytes() == null ? -1 : r.totalUncompressedSizeBytes(), r.collectedAt());
  }

  private static Map<JobKind, Long> later(Map<JobKind, Long> ends, JobKind kind, long at) {
    Long known = ends.get(kind);
    if (known != null && known >= at) return ends;
    Map<JobKind, Long> next = new EnumMap<>(JobKind.class);
    next.putAll(ends);
    next.put(kind, at);
    return Map.copyOf(next);
  }

  /**
   * What {@code /metrics} shows of this host. The same object until {@link #changed()}, which whoever
   * changes the connection, the last seen time, the job maps, the last snapshot, the last backup's added
   * bytes, the repository statistics, the set of open alerts or the versions must call.
   */
  HostSample sample() {
    if (sample == null) {
      sample = new HostSample(name, online(), lastSeen == 0 ? -1 : lastSeen, lastJob, lastSuccess, lastBackupAdded,
          openAlerts.size(), agentVersion, resticVersion, os, lastSnapshot == 0 ? -1 : lastSnapshot, repository);
    }
    return sample;
  }

  /** The host as the API shows it. */
  HostView view() {
    return new HostView(id, name, online(), lastSeen, agentVersion, resticVersion, os, enrolledAt);
  }

  /** Something {@link #sample()} shows has changed: the next sample is built anew. */
  void changed() {
    sample = null;
  }
}
