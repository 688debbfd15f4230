package io.resticmanager.metrics;

import io.resticmanager.BuildInfo;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The server's {@code /metrics} content (contract §5) as a pure function of plain inputs: the job-duration
 * histograms, a {@link FleetSample} and the {@link BuildInfo}. Names, types, label names and HELP texts
 * are the contract's; HELP is the contract's "meaning" column. Called by the metrics route once per
 * scrape; it holds no state, reads no clock and never talks to actors.
 *
 * <p>Order: families as in the contract's table; histogram series by kind then status (enum order);
 * per-host rows by host name ({@link String#compareTo}), then kind; alert rows by kind (enum order).
 */
public final class ServerMetrics {

  private static final String PREFIX = "restic_manager_";
  private static final List<String> HOST = List.of("host");
  private static final List<String> HOST_KIND = List.of("host", "kind");
  private static final JobKind[] KINDS = JobKind.values();

  private ServerMetrics() {}

  /** What rows a host has in one per-host family: {@code rows.add(value, labelValues...)} for each. */
  @FunctionalInterface
  private interface RowsOf {
    void write(HostSample host, Rows rows);
  }

  @FunctionalInterface
  private interface Rows {
    void add(double value, String... labelValues);
  }

  /** One per-host gauge family: its metadata, the rows a host has in it, and the writer of those lines. */
  private record HostFamily(String name, String help, String unit, List<String> labelNames, RowsOf rows,
      MetricsTextWriter.GaugeLines lines) {

    static HostFamily of(String name, String help, String unit, List<String> labelNames, RowsOf rows) {
      return new HostFamily(PREFIX + name, help, unit, labelNames, rows,
          new MetricsTextWriter.GaugeLines(PREFIX + name, labelNames));
    }
  }

  /** The per-host families, in exposition order. */
  private static final List<HostFamily> HOST_FAMILIES = List.of(
      HostFamily.of("host_online", "1 online, 0 offline", "", HOST,
          (h, rows) -> rows.add(h.online() ? 1 : 0, h.name())),
      HostFamily.of("host_last_seen_timestamp_seconds", "last frame from the agent", "seconds", HOST, (h, rows) -> {
        if (h.lastSeenEpochMillis() != -1) rows.add(seconds(h.lastSeenEpochMillis()), h.name());
      }),
      HostFamily.of("host_last_job_timestamp_seconds", "last finished job of that kind, any status", "seconds",
          HOST_KIND, (h, rows) -> perKind(h.name(), h.lastJobEpochMillis(), rows)),
      HostFamily.of("host_last_success_timestamp_seconds", "last job of that kind with status succeeded", "seconds",
          HOST_KIND, (h, rows) -> perKind(h.name(), h.lastSuccessEpochMillis(), rows)),
      HostFamily.of("host_last_snapshot_timestamp_seconds",
          "last backup that made a snapshot (succeeded or warning)", "seconds", HOST, (h, rows) -> {
            if (h.lastSnapshotEpochMillis() != -1) rows.add(seconds(h.lastSnapshotEpochMillis()), h.name());
          }),
      HostFamily.of("host_last_backup_added_bytes", "data_added of the last backup", "bytes", HOST, (h, rows) -> {
        if (h.lastBackupAddedBytes() != -1) rows.add(h.lastBackupAddedBytes(), h.name());
      }),
      HostFamily.of("host_snapshots", "snapshots in the host's repository, from its latest repository.stats", "",
          HOST, (h, rows) -> {
            if (h.repository() != null) rows.add(h.repository().snapshots(), h.name());
          }),
      HostFamily.of("host_repository_size_bytes", "stored size of the repository (restic stats --mode raw-data)",
          "bytes", HOST, (h, rows) -> {
            if (h.repository() != null) rows.add(h.repository().sizeBytes(), h.name());
          }),
      HostFamily.of("host_repository_uncompressed_size_bytes", "uncompressed size, where restic reports it", "bytes",
          HOST, (h, rows) -> {
            if (h.repository() != null && h.repository().uncompressedSizeBytes() != -1) {
              rows.add(h.repository().uncompressedSizeBytes(), h.name());
            }
          }),
      HostFamily.of("host_repository_stats_timestamp_seconds", "when those statistics were collected", "seconds",
          HOST, (h, rows) -> {
            if (h.repository() != null) rows.add(seconds(h.repository().collectedAtEpochMillis()), h.name());
          }),
      HostFamily.of("host_open_alerts", "open alerts of the host", "", HOST,
          (h, rows) -> rows.add(h.openAlerts(), h.name())),
      HostFamily.of("host_info", "versions, kept out of other series", "",
          List.of("host", "agent_version", "restic_version", "os"),
          (h, rows) -> rows.add(1, h.name(), h.agentVersion(), h.resticVersion(), h.os())));

  /** How many per-host families there are. */
  static int hostFamilies() {
    return HOST_FAMILIES.size();
  }

  /**
   * Renders {@code host}'s rows of every per-host family into {@code out}, family after family, and
   * returns where each family's rows end. Called by {@link HostRows}, once per change of a host.
   */
  static int[] renderHost(HostSample host, TextBuffer out) {
    int[] ends = new int[HOST_FAMILIES.size()];
    for (int k = 0; k < ends.length; k++) {
      renderRows(k, host, out);
      ends[k] = out.size();
    }
    return ends;
  }

  /** Renders {@code host}'s rows of per-host family {@code k} (possibly none) into {@code out}. */
  static void renderRows(int k, HostSample host, TextBuffer out) {
    HostFamily family = HOST_FAMILIES.get(k);
    family.rows().write(host, (value, labelValues) -> family.lines().write(List.of(labelValues), value, out));
  }

  /**
   * Rejects a fleet that lists one host name twice. The hosts' rows are the fleet's own rendered rows
   * when it has them ({@link FleetSample#rendered()}), else rendered here ({@link RenderedHosts#of}).
   */
  public static MetricsSnapshot build(JobDurations jobDurations, FleetSample fleet, BuildInfo build) {
    return build(jobDurations, fleet, build, null);
  }

  /**
   * As above, followed by {@code restic_manager_cluster_members}: {@code members} by status as this node
   * sees them (see {@link #CLUSTER_STATUSES}); null leaves the family out.
   */
  public static MetricsSnapshot build(JobDurations jobDurations, FleetSample fleet, BuildInfo build,
      Map<String, Integer> members) {
    RenderedHosts rows = fleet.rendered() != null ? fleet.rendered() : RenderedHosts.of(fleet.hosts());
    int n = fleet.hosts().size();
    int onlineCount = 0;
    for (HostSample host : fleet.hosts()) {
      if (host.online()) onlineCount++;
    }

    List<GaugeFamily.Row> alerts = new ArrayList<>();
    for (AlertKind kind : AlertKind.values()) {
      int open = fleet.openAlertsByKind().getOrDefault(kind, 0);
      alerts.add(GaugeFamily.Row.of(open, kind.wire(), kind.severity().wire()));
    }

    List<MetricFamily> families = new ArrayList<>(5 + HOST_FAMILIES.size());
    families.add(jobDurations(jobDurations));
    families.add(GaugeFamily.of(PREFIX + "hosts", "enrolled hosts by state", List.of("state"), List.of(
        GaugeFamily.Row.of(onlineCount, "online"),
        GaugeFamily.Row.of(n - onlineCount, "offline"))));
    families.add(GaugeFamily.of(PREFIX + "agents_connected", "open agent connections", List.of(),
        List.of(GaugeFamily.Row.of(fleet.agentsConnected()))));
    for (int k = 0; k < HOST_FAMILIES.size(); k++) {
      HostFamily f = HOST_FAMILIES.get(k);
      families.add(new HostGaugeFamily(f.name(), f.help(), f.unit(), f.labelNames(), rows.blocks(k), rows.deflated(k)));
    }
    families.add(GaugeFamily.of(PREFIX + "alerts_open", "open alerts; every known kind present from start",
        List.of("kind", "severity"), alerts));
    families.add(GaugeFamily.of(PREFIX + "build_info", "the running build",
        List.of("version", "revision", "java_version"),
        List.of(GaugeFamily.Row.of(1, build.version(), build.revision(), build.javaVersion()))));
    if (members != null) {
      List<GaugeFamily.Row> memberRows = new ArrayList<>(CLUSTER_STATUSES.size());
      for (String status : CLUSTER_STATUSES) memberRows.add(GaugeFamily.Row.of(members.getOrDefault(status, 0), status));
      families.add(GaugeFamily.of(PREFIX + "cluster_members",
          "members as this node sees them, by member status, plus unreachable", List.of("status"), memberRows));
    }
    return new MetricsSnapshot(families);
  }

  /**
   * The {@code status} values of {@code restic_manager_cluster_members}, every one present from start:
   * Pekko's member statuses in lower case, then {@code unreachable} (members this node's failure
   * detector does not hear, whatever their status).
   */
  public static final List<String> CLUSTER_STATUSES = List.of("joining", "weaklyup", "up", "leaving", "exiting",
      "down", "removed", "preparingforshutdown", "readyforshutdown", "unreachable");

  private static HistogramFamily jobDurations(JobDurations durations) {
    List<HistogramFamily.Row> rows = new ArrayList<>(JobKind.values().length * JobStatus.values().length);
    for (JobKind kind : JobKind.values()) {
      for (JobStatus status : JobStatus.values()) {
        rows.add(HistogramFamily.Row.of(List.of(kind.wire(), status.wire()),
            durations.bucketCounts(kind, status), durations.sumSeconds(kind, status), durations.count(kind, status)));
      }
    }
    return new HistogramFamily(PREFIX + "job_duration_seconds", "finished jobs", "seconds",
        List.of("kind", "status"), JobDurations.BUCKETS, rows);
  }

  private static void perKind(String host, Map<JobKind, Long> ends, Rows rows) {
    for (JobKind kind : KINDS) {
      Long at = ends.get(kind);
      if (at != null) rows.add(seconds(at), host, kind.wire());
    }
  }

  private static double seconds(long epochMillis) {
    return epochMillis / 1000.0;
  }
}
