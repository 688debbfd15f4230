package io.resticmanager.metrics;

import io.resticmanager.BuildInfo;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import java.util.ArrayList;
import java.util.Comparator;
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

  /** Rejects a fleet that lists one host name twice. */
  public static MetricsSnapshot build(JobDurations jobDurations, FleetSample fleet, BuildInfo build) {
    List<HostSample> hosts = new ArrayList<>(fleet.hosts());
    hosts.sort(Comparator.comparing(HostSample::name));
    int n = hosts.size();

    List<GaugeFamily.Row> online = new ArrayList<>(n);
    List<GaugeFamily.Row> lastSeen = new ArrayList<>(n);
    List<GaugeFamily.Row> lastJob = new ArrayList<>(n);
    List<GaugeFamily.Row> lastSuccess = new ArrayList<>(n);
    List<GaugeFamily.Row> addedBytes = new ArrayList<>(n);
    List<GaugeFamily.Row> openAlerts = new ArrayList<>(n);
    List<GaugeFamily.Row> info = new ArrayList<>(n);
    int onlineCount = 0;
    String previous = null;
    for (HostSample host : hosts) {
      String name = host.name();
      if (name.equals(previous)) {
        throw new IllegalArgumentException("host [" + name + "] appears twice: its series would collide");
      }
      previous = name;
      List<String> hostLabel = List.of(name);
      if (host.online()) onlineCount++;
      online.add(new GaugeFamily.Row(hostLabel, host.online() ? 1 : 0));
      if (host.lastSeenEpochMillis() != -1) {
        lastSeen.add(new GaugeFamily.Row(hostLabel, seconds(host.lastSeenEpochMillis())));
      }
      addPerKind(lastJob, lastSuccess, name, host.lastJobEpochMillis(), host.lastSuccessEpochMillis());
      if (host.lastBackupAddedBytes() != -1) {
        addedBytes.add(new GaugeFamily.Row(hostLabel, host.lastBackupAddedBytes()));
      }
      openAlerts.add(new GaugeFamily.Row(hostLabel, host.openAlerts()));
      info.add(new GaugeFamily.Row(List.of(name, host.agentVersion(), host.resticVersion(), host.os()), 1));
    }

    List<GaugeFamily.Row> alerts = new ArrayList<>();
    for (AlertKind kind : AlertKind.values()) {
      int open = fleet.openAlertsByKind().getOrDefault(kind, 0);
      alerts.add(GaugeFamily.Row.of(open, kind.wire(), kind.severity().wire()));
    }

    return MetricsSnapshot.of(
        jobDurations(jobDurations),
        GaugeFamily.of(PREFIX + "hosts", "enrolled hosts by state", List.of("state"), List.of(
            GaugeFamily.Row.of(onlineCount, "online"),
            GaugeFamily.Row.of(n - onlineCount, "offline"))),
        GaugeFamily.of(PREFIX + "agents_connected", "open agent connections", List.of(),
            List.of(GaugeFamily.Row.of(fleet.agentsConnected()))),
        GaugeFamily.of(PREFIX + "host_online", "1 online, 0 offline", HOST, online),
        new GaugeFamily(PREFIX + "host_last_seen_timestamp_seconds", "last frame from the agent",
            "seconds", HOST, lastSeen),
        new GaugeFamily(PREFIX + "host_last_job_timestamp_seconds", "last finished job of that kind, any status",
            "seconds", HOST_KIND, lastJob),
        new GaugeFamily(PREFIX + "host_last_success_timestamp_seconds",
            "last job of that kind with status succeeded", "seconds", HOST_KIND, lastSuccess),
        new GaugeFamily(PREFIX + "host_last_backup_added_bytes", "data_added of the last backup",
            "bytes", HOST, addedBytes),
        GaugeFamily.of(PREFIX + "host_open_alerts", "open alerts of the host", HOST, openAlerts),
        GaugeFamily.of(PREFIX + "host_info", "versions, kept out of other series",
            List.of("host", "agent_version", "restic_version", "os"), info),
        GaugeFamily.of(PREFIX + "alerts_open", "open alerts; every known kind present from start",
            List.of("kind", "severity"), alerts),
        GaugeFamily.of(PREFIX + "build_info", "the running build", List.of("version", "revision", "java_version"),
            List.of(GaugeFamily.Row.of(1, build.version(), build.revision(), build.javaVersion()))));
  }

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

  /** One {@code (host, kind)} label list serves both families: a scrape of a large fleet makes many of them. */
  private static void addPerKind(List<GaugeFamily.Row> jobRows, List<GaugeFamily.Row> successRows, String host,
      Map<JobKind, Long> lastJob, Map<JobKind, Long> lastSuccess) {
    for (JobKind kind : KINDS) {
      Long job = lastJob.get(kind);
      Long success = lastSuccess.get(kind);
      if (job == null && success == null) continue;
      List<String> labels = List.of(host, kind.wire());
      if (job != null) jobRows.add(new GaugeFamily.Row(labels, seconds(job)));
      if (success != null) successRows.add(new GaugeFamily.Row(labels, seconds(success)));
    }
  }

  private static double seconds(long epochMillis) {
    return epochMillis / 1000.0;
  }
}
