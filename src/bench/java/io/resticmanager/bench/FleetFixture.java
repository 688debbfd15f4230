package io.resticmanager.bench;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.resticmanager.BuildInfo;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.HostRows;
import io.resticmanager.metrics.HostSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One synthetic fleet, expressed twice: as the {@link FleetSample} + {@link JobDurations} our
 * {@code ServerMetrics} renders, and as a client_java 1.10 {@link PrometheusRegistry} holding the same
 * families with the same series and values. Deterministic (fixed seed), so both sides and every run
 * see the same fleet.
 *
 * <p>Per host: online (9 in 10), last seen, last job of backup/check/forget (and prune for 1 in 7),
 * last success of backup (19 in 20)/check/forget, added bytes, open alerts, info. About 12 series per
 * host, the shape of a real fleet that runs daily backups and weekly checks.
 */
public final class FleetFixture {

  public static final String PREFIX = "restic_manager_";
  public static final BuildInfo BUILD = new BuildInfo("0.1.0", "0123456789ab", "17.0.15");
  private static final long NOW_MILLIS = 1_764_300_000_000L;

  public final List<MutableHost> hosts;
  public final JobDurations durations;
  /** Observations in seconds, in the order they were recorded into {@link #durations}. */
  public final List<Observation> observations;

  public record Observation(JobKind kind, JobStatus status, double seconds) {}

  /**
   * The state {@code Fleet} keeps per host ({@code HostState} is package-private there): mutable
   * EnumMaps from which a {@link HostSample} was copied at every scrape ({@link #sample()}); and the
   * immutable maps {@code HostState} now keeps instead ({@link #resampledAfterFrames()}).
   */
  public static final class MutableHost {
    public final String name;
    public boolean online;
    public long lastSeen;
    public final Map<JobKind, Long> lastJob = new EnumMap<>(JobKind.class);
    public final Map<JobKind, Long> lastSuccess = new EnumMap<>(JobKind.class);
    public long lastBackupAdded = -1;
    public int openAlerts;
    public String agentVersion = "0.1.0";
    public String resticVersion = "0.17.3";
    public String os = "linux/amd64";

    MutableHost(String name) {
      this.name = name;
    }

    /** Immutable copies of the maps, made once, as {@code HostState} keeps them. */
    private Map<JobKind, Long> keptLastJob;
    private Map<JobKind, Long> keptLastSuccess;

    /** What {@code Fleet.onGetSample} made of a host before it kept samples. */
    public HostSample sample() {
      return new HostSample(name, online, lastSeen == 0 ? -1 : lastSeen, Map.copyOf(lastJob), Map.copyOf(lastSuccess),
          lastBackupAdded, openAlerts, agentVersion, resticVersion, os);
    }
  }

  public FleetFixture(int hostCount) {
    SplittableRandom random = new SplittableRandom(42);
    hosts = new ArrayList<>(hostCount);
    for (int i = 0; i < hostCount; i++) {
      MutableHost h = new MutableHost(String.format("host-%05d.backup.example.net", i));
      h.online = i % 10 != 0;
      h.lastSeen = NOW_MILLIS - random.nextLong(90_000);
      long day = NOW_MILLIS - random.nextLong(86_400_000L);
      h.lastJob.put(JobKind.BACKUP, day);
      h.lastJob.put(JobKind.CHECK, day - 3 * 86_400_000L);
      h.lastJob.put(JobKind.FORGET, day + 600_000);
      if (i % 7 == 0) h.lastJob.put(JobKind.PRUNE, day - 6 * 86_400_000L);
      if (i % 20 != 0) h.lastSuccess.put(JobKind.BACKUP, day);
      h.lastSuccess.put(JobKind.CHECK, day - 3 * 86_400_000L);
      h.lastSuccess.put(JobKind.FORGET, day + 600_000);
      h.lastBackupAdded = random.nextLong(50_000_000_000L);
      h.openAlerts = i % 20 == 0 ? 1 : 0;
      hosts.add(h);
    }
    observations = new ArrayList<>();
    JobDurations d = JobDurations.empty();
    for (int i = 0; i < 2_000; i++) {
      JobKind kind = JobKind.values()[random.nextInt(JobKind.values().length)];
      JobStatus status = JobStatus.values()[random.nextInt(JobStatus.values().length)];
      double seconds = random.nextInt(7_200_000) / 1000.0;
      observations.add(new Observation(kind, status, seconds));
      d = d.plus(kind, status, Duration.ofMillis(Math.round(seconds * 1000)));
    }
    durations = d;
  }

  /**
   * What {@code Fleet.onGetSample} replied before it kept its sample: every host copied, plus the counts.
   * (Now a scrape of an unchanged fleet gets the kept sample and copies nothing.)
   */
  public FleetSample sample() {
    List<HostSample> out = new ArrayList<>(hosts.size());
    Map<AlertKind, Integer> byKind = new EnumMap<>(AlertKind.class);
    int connected = 0;
    for (MutableHost h : hosts) {
      if (h.online) connected++;
      if (h.openAlerts > 0) byKind.merge(AlertKind.BACKUP_FAILED, 1, Integer::sum);
      out.add(h.sample());
    }
    return new FleetSample(out, connected, byKind);
  }

  /**
   * What {@code Fleet.onGetSample} now replies when every host has sent a frame since the last scrape (the
   * worst case: with 30 s heartbeats and 15 s scrapes, half of them have): each host's sample is rebuilt
   * around the immutable job maps its state keeps, and the host list is copied once.
   */
  public FleetSample resampledAfterFrames() {
    HostSample[] out = new HostSample[hosts.size()];
    Map<AlertKind, Integer> byKind = new EnumMap<>(AlertKind.class);
    int connected = 0;
    int i = 0;
    for (MutableHost h : hosts) {
      if (h.online) connected++;
      if (h.openAlerts > 0) byKind.merge(AlertKind.BACKUP_FAILED, 1, Integer::sum);
      if (h.keptLastJob == null) {
        h.keptLastJob = Map.copyOf(h.lastJob);
        h.keptLastSuccess = Map.copyOf(h.lastSuccess);
      }
      out[i++] = new HostSample(h.name, h.online, h.lastSeen == 0 ? -1 : h.lastSeen, h.keptLastJob,
          h.keptLastSuccess, h.lastBackupAdded, h.openAlerts, h.agentVersion, h.resticVersion, h.os);
    }
    return new FleetSample(List.of(out), connected, byKind);
  }

  /** What the fleet keeps now: each host's sample until it changes, and every host's rows rendered. */
  private HostSample[] kept;
  private HostRows rows;
  private int nextSeen;

  /**
   * What {@code Fleet.onGetSample} replies now after {@code seen} hosts sent a frame since the last scrape
   * (their last-seen time moves on): those hosts' samples are rebuilt and their rows re-rendered, everything
   * else is kept. 0 is a scrape of an unchanged fleet; the load tool's back-to-back scrapes see about 15.
   */
  public FleetSample keptSample(int seen) {
    if (kept == null) {
      kept = resampledAfterFrames().hosts().toArray(new HostSample[0]);
      rows = new HostRows();
      for (HostSample h : kept) rows.put(h);
    }
    for (int n = 0; n < seen; n++) {
      int i = nextSeen++ % hosts.size();
      MutableHost h = hosts.get(i);
      h.lastSeen += 1_000;
      kept[i] = new HostSample(h.name, h.online, h.lastSeen, h.keptLastJob, h.keptLastSuccess, h.lastBackupAdded,
          h.openAlerts, h.agentVersion, h.resticVersion, h.os);
      rows.put(kept[i]);
    }
    Map<AlertKind, Integer> byKind = new EnumMap<>(AlertKind.class);
    int connected = 0;
    for (MutableHost h : hosts) {
      if (h.online) connected++;
      if (h.openAlerts > 0) byKind.merge(AlertKind.BACKUP_FAILED, 1, Integer::sum);
    }
    return new FleetSample(List.of(kept), connected, byKind, rows.render());
  }

  /** A client_java registry with the same families, series and values as {@link #sample()}. */
  public PrometheusRegistry clientJavaRegistry() {
    PrometheusRegistry registry = new PrometheusRegistry();
    Histogram durationsHistogram = Histogram.builder()
        .name(PREFIX + "job_duration_seconds").help("finished jobs")
        .labelNames("kind", "status")
        .classicOnly().classicUpperBounds(JobDurations.BUCKETS.upperBounds())
        .withoutExemplars()
        .register(registry);
    for (JobKind k : JobKind.values()) {
      for (JobStatus s : JobStatus.values()) durationsHistogram.labelValues(k.wire(), s.wire());
    }
    for (Observation o : observations) {
      durationsHistogram.labelValues(o.kind().wire(), o.status().wire()).observe(Math.round(o.seconds() * 1000) / 1000.0);
    }
    Gauge state = Gauge.builder().name(PREFIX + "hosts").help("enrolled hosts by state").labelNames("state")
        .register(registry);
    Gauge connected = Gauge.builder().name(PREFIX + "agents_connected").help("open agent connections")
        .register(registry);
    Gauge online = gauge(registry, "host_online", "1 online, 0 offline", "host");
    Gauge lastSeen = gauge(registry, "host_last_seen_timestamp_seconds", "last frame from the agent", "host");
    Gauge lastJob = gauge(registry, "host_last_job_timestamp_seconds", "last finished job of that kind, any status",
        "host", "kind");
    Gauge lastSuccess = gauge(registry, "host_last_success_timestamp_seconds",
        "last job of that kind with status succeeded", "host", "kind");
    Gauge added = gauge(registry, "host_last_backup_added_bytes", "data_added of the last backup", "host");
    Gauge alerts = gauge(registry, "host_open_alerts", "open alerts of the host", "host");
    Info info = Info.builder().name(PREFIX + "host_info").help("versions, kept out of other series")
        .labelNames("host", "agent_version", "restic_version", "os").register(registry);
    Gauge alertsOpen = Gauge.builder().name(PREFIX + "alerts_open")
        .help("open alerts; every known kind present from start").labelNames("kind", "severity").register(registry);
    Info build = Info.builder().name(PREFIX + "build_info").help("the running build")
        .labelNames("version", "revision", "java_version").register(registry);

    int onlineCount = 0;
    int withAlerts = 0;
    for (MutableHost h : hosts) {
      if (h.online) onlineCount++;
      if (h.openAlerts > 0) withAlerts++;
      online.labelValues(h.name).set(h.online ? 1 : 0);
      lastSeen.labelValues(h.name).set(h.lastSeen / 1000.0);
      for (Map.Entry<JobKind, Long> e : h.lastJob.entrySet()) {
        lastJob.labelValues(h.name, e.getKey().wire()).set(e.getValue() / 1000.0);
      }
      for (Map.Entry<JobKind, Long> e : h.lastSuccess.entrySet()) {
        lastSuccess.labelValues(h.name, e.getKey().wire()).set(e.getValue() / 1000.0);
      }
      added.labelValues(h.name).set(h.lastBackupAdded);
      alerts.labelValues(h.name).set(h.openAlerts);
      info.addLabelValues(h.name, h.agentVersion, h.resticVersion, h.os);
    }
    state.labelValues("online").set(onlineCount);
    state.labelValues("offline").set(hosts.size() - onlineCount);
    connected.set(onlineCount);
    for (AlertKind k : AlertKind.values()) {
      alertsOpen.labelValues(k.wire(), k.severity().wire()).set(k == AlertKind.BACKUP_FAILED ? withAlerts : 0);
    }
    build.addLabelValues(BUILD.version(), BUILD.revision(), BUILD.javaVersion());
    return registry;
  }

  private static Gauge gauge(PrometheusRegistry registry, String name, String help, String... labels) {
    return Gauge.builder().name(PREFIX + name).help(help).labelNames(labels).register(registry);
  }
}
