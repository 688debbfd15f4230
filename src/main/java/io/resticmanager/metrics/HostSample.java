package io.resticmanager.metrics;

import io.resticmanager.jobs.JobKind;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link ServerMetrics} needs to know about one enrolled host at scrape time. Plain values, taken
 * from the fleet's state by whoever gathers the scrape; immutable. Its rows are rendered by
 * {@link HostRows}, once per change of the host.
 *
 * @param name the enrolled host name, the {@code host} label
 * @param lastSeenEpochMillis the last frame from the agent, {@code -1} when never seen
 * @param lastJobEpochMillis per kind, the end of the last finished job of any status; absent kinds had none
 * @param lastSuccessEpochMillis per kind, the end of the last {@code succeeded} job; absent kinds had none
 * @param lastBackupAddedBytes {@code data_added} of the last backup, {@code -1} when there is none
 * @param agentVersion {@code null} or empty when unknown, exposed as {@code ""}; likewise the next two
 * @param lastSnapshotEpochMillis the end of the last backup that made a snapshot ({@code succeeded} or
 *     {@code warning}), {@code -1} when there was none
 * @param repository the host's repository as its agent last reported it; {@code null} when it never did
 */
public record HostSample(
    String name,
    boolean online,
    long lastSeenEpochMillis,
    Map<JobKind, Long> lastJobEpochMillis,
    Map<JobKind, Long> lastSuccessEpochMillis,
    long lastBackupAddedBytes,
    int openAlerts,
    String agentVersion,
    String resticVersion,
    String os,
    long lastSnapshotEpochMillis,
    Repository repository) {

  /**
   * The statistics of {@code repository.stats}: snapshots, stored bytes, uncompressed bytes ({@code -1} when
   * restic did not report them) and when they were collected.
   */
  public record Repository(long snapshots, long sizeBytes, long uncompressedSizeBytes, long collectedAtEpochMillis) {}

  /** A host with no snapshot and no repository statistics known. */
  public HostSample(String name, boolean online, long lastSeenEpochMillis, Map<JobKind, Long> lastJobEpochMillis,
      Map<JobKind, Long> lastSuccessEpochMillis, long lastBackupAddedBytes, int openAlerts, String agentVersion,
      String resticVersion, String os) {
    this(name, online, lastSeenEpochMillis, lastJobEpochMillis, lastSuccessEpochMillis, lastBackupAddedBytes,
        openAlerts, agentVersion, resticVersion, os, -1, null);
  }

  public HostSample {
    Objects.requireNonNull(name, "name");
    lastJobEpochMillis = Map.copyOf(lastJobEpochMillis);
    lastSuccessEpochMillis = Map.copyOf(lastSuccessEpochMillis);
    agentVersion = agentVersion == null ? "" : agentVersion;
    resticVersion = resticVersion == null ? "" : resticVersion;
    os = os == null ? "" : os;
  }
}
