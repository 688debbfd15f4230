package io.resticmanager.deploy;

import static io.resticmanager.deploy.Prometheus.labels;
import static io.resticmanager.deploy.Prometheus.number;
import static io.resticmanager.deploy.Prometheus.poll;
import static io.resticmanager.deploy.Prometheus.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.support.ClusterNodes;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped dashboard and alert rules give the same answers for a fleet split over a three-node cluster as
 * for the same fleet on one node (issue 13, items 3 and 7). Two clusters run as child JVMs, each on a fresh
 * PostgreSQL schema: three nodes, and one node alone. Both get the same fleet: the same host names, the
 * same jobs (kinds, statuses, start and end times, data added) and repository statistics, sent by
 * WebSocket agents. In the three-node
 * cluster host i's agent talks to node i mod 3, so the job histogram is split over the nodes, and sharding
 * spreads the hosts' entities, so their rows are split too. One Prometheus scrapes the three nodes as the
 * three targets of one job and the lone node as another job, with the shipped rules loaded.
 *
 * <p>Every dashboard expression is evaluated for each job at one instant (so {@code time()} is the same);
 * the results, compared by label set without {@code instance} and {@code job}, must be the same: exactly,
 * or within {@link #RATE_TOLERANCE} where rate() and increase() extrapolate from each target's own scrape
 * times. A query that does not aggregate over the nodes returns a series per node, or keeps their
 * {@code instance} label, and fails. The cluster panel, about the nodes themselves, must count three
 * members and one. The rules must load healthy and raise the same alerts for both jobs.
 */
class PrometheusClusterIT {
  private static final String THREE = "restic-manager-three";
  private static final String ONE = "restic-manager-one";
  private static final int HOSTS = 9;
  /** Enrolled in both clusters; its agent never connects. */
  private static final String SILENT = "host-silent";
  /** The test agents send no heartbeat: none may be marked offline while the test runs. */
  private static final String HOCON = "restic-manager.agents.offline-after = 1h\n";
  private static final List<String> BACKUP_ENDINGS = List.of("succeeded", "failed", "warning", "cancelled");
  /**
   * rate() scales each target's increase by (scraped span + up to 1.1 scrape intervals) / scraped span. With
   * 1 s scrapes over at least {@link #MIN_SCRAPED} the targets' factors differ by under 2.5 %.
   */
  private static final double RATE_TOLERANCE = 0.05;
  private static final Duration MIN_SCRAPED = Duration.ofSeconds(45);
  /** The metrics of panels about the nodes themselves, which count nodes rather than the fleet. */
  private static final Set<String> NODE_METRICS = Set.of("restic_manager_cluster_members", "restic_manager_build_info");
  /** What Prometheus adds to each series: the same fleet has other values of them in the two jobs. */
  private static final Set<String> SCRAPE_LABELS = Set.of("job", "instance");

  @TempDir static Path dir;
  private static final List<Settings.Db> schemas = new ArrayList<>();
  private static final List<TestAgent> agents = new ArrayList<>();
  private static ClusterNodes three;
  private static ClusterNodes one;
  private static Prometheus prometheus;
  /** When every target had been scraped, before the first job: each rate window starts earlier. */
  private static long scrapedSince;
  /** Jobs sent to each cluster. */
  private static int jobsFed;

  private record Job(String kind, String status, Instant end, long seconds, long dataAdded) {}

  @BeforeAll
  static void startBothClustersWithTheSameFleetAndPrometheus() throws Exception {
    Tools.executable("prometheus"); // skips (or fails) before four JVMs start
    three = ClusterNodes.start(dir.resolve("three"), 3, freshPostgres(), HOCON, Map.of());
    one = ClusterNodes.start(dir.resolve("one"), 1, freshPostgres(), HOCON, Map.of());
    List<TestAgent> ofThree = new ArrayList<>();
    List<TestAgent> ofOne = new ArrayList<>();
    for (int i = 0; i < HOSTS; i++) {
      ofThree.add(agent(three, i % 3, "host-" + i));
      ofOne.add(agent(one, 0, "host-" + i));
    }
    three.api(1).enroll(SILENT);
    one.api(0).enroll(SILENT);

    Path token = Files.writeString(dir.resolve("prometheus-credentials"), ClusterNodes.METRICS + "\n");
    prometheus = Prometheus.start(dir.resolve("prometheus"), List.of(
        new Prometheus.ScrapeJob(THREE, targets(three), token, null),
        new Prometheus.ScrapeJob(ONE, targets(one), token, null)));
    String upCount = "count(up{job=~\"" + THREE + "|" + ONE + "\"} == 1)";
    assertTrue(poll(() -> "4".equals(prometheus.scalarOf(upCount))),
        "the four targets never came up: " + prometheus.api("/api/v1/targets") + "\n" + prometheus.logTail());
    scrapedSince = System.currentTimeMillis();

    // Fed only now, so that every rate window starts from counters Prometheus has seen at zero.
    Instant base = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    for (int i = 0; i < HOSTS; i++) {
      for (Job j : jobsOf(i, base)) {
        run(ofThree.get(i), j);
        run(ofOne.get(i), j);
        jobsFed++;
      }
      String stats = TestAgent.repositoryStats(base.minusSeconds(60 * i), 10 + i, 1_000_000L * (i + 1),
          i % 2 == 0 ? 3_000_000L * (i + 1) : null);
      ofThree.get(i).send(stats);
      ofOne.get(i).send(stats);
    }
    for (String job : List.of(THREE, ONE)) {
      String count = "sum(restic_manager_job_duration_seconds_count{job=\"" + job + "\"})";
      assertTrue(poll(() -> String.valueOf(jobsFed).equals(prometheus.scalarOf(count))),
          job + ": Prometheus never saw " + jobsFed + " jobs; it says " + prometheus.scalarOf(count));
    }
  }

  @AfterAll
  static void stopEverything() {
    try {
      agents.forEach(TestAgent::close);
      if (prometheus != null) prometheus.close();
      if (three != null) three.close();
      if (one != null) one.close();
    } finally {
      schemas.forEach(TestDatabases::dropPostgresSchema);
    }
  }

  @Test
  void theFleetIsSplitOverTheThreeNodes() throws Exception {
    for (String share : List.of(
        "count by (instance) (restic_manager_host_online{job=\"" + THREE + "\"})",
        "sum by (instance) (restic_manager_job_duration_seconds_count{job=\"" + THREE + "\"}) > 0",
        "restic_manager_agents_connected{job=\"" + THREE + "\"} > 0")) {
      assertEquals(3, prometheus.vector(share).size(), share + " -> " + prometheus.vector(share));
    }
  }

  @Test
  void everyFleetPanelExpressionGivesTheSameValuesForThreeNodesAsForOne() throws Exception {
    List<Dashboard.Query> fleet = Dashboard.queries().stream().filter(q -> !aboutTheNodes(q)).toList();
    assertTrue(fleet.size() >= 10, "fleet queries: " + fleet);
    List<String> differences = new ArrayList<>();
    boolean same = poll(() -> {
      long at = System.currentTimeMillis();
      if (at - scrapedSince < MIN_SCRAPED.toMillis()) return false;
      // From before the first scrape to now: each rate covers every job, extrapolated only at its end.
      String window = ((at - scrapedSince) / 1000 + 10) + "s";
      differences.clear();
      for (Dashboard.Query q : fleet) {
        List<Map<String, Object>> threeVector = prometheus.vectorAt(q.resolve(THREE, ".+", window), at);
        List<Row> ofThree = rows(threeVector, SCRAPE_LABELS);
        List<Row> ofOne = rows(prometheus.vectorAt(q.resolve(ONE, ".+", window), at), SCRAPE_LABELS);
        // Per-host rows not merged over the nodes have the right values while no host moves: only their
        // instance label gives them away.
        boolean perNode = threeVector.stream().anyMatch(sample -> labels(sample).containsKey("instance"));
        if (perNode || ofOne.isEmpty() || !same(ofThree, ofOne, q.extrapolates() ? RATE_TOLERANCE : 0)) {
          differences.add("panel \"" + q.panelTitle() + "\" " + q.refId() + ": " + q.expr()
              + (perNode ? "\n  keeps instance: a series per node" : "")
              + "\n  three nodes: " + ofThree + "\n  one node:    " + ofOne);
        }
      }
      return differences.isEmpty();
    });
    assertTrue(same, "three nodes and one differ (or return nothing):\n" + String.join("\n", differences));
  }

  @Test
  void theClusterPanelCountsThreeMembersAndOne() throws Exception {
    List<Dashboard.Query> nodes = Dashboard.queries().stream().filter(PrometheusClusterIT::aboutTheNodes).toList();
    assertEquals(Set.of("Cluster members"), new TreeSet<>(nodes.stream().map(Dashboard.Query::panelTitle).toList()));
    for (Dashboard.Query q : nodes) {
      List<Row> ofThree = rows(prometheus.vector(q.resolve(THREE, ".+", "1m")), SCRAPE_LABELS);
      List<Row> ofOne = rows(prometheus.vector(q.resolve(ONE, ".+", "1m")), SCRAPE_LABELS);
      // Members: only "up" ones; nodes scraped: one unlabelled count.
      String labels = q.expr().contains("cluster_members") ? "{status=up}" : "{}";
      assertEquals(List.of(new Row(labels, 3)), ofThree, q.expr());
      assertEquals(List.of(new Row(labels, 1)), ofOne, q.expr());
    }
  }

  @Test
  void theShippedRulesLoadHealthyAndRaiseTheSameAlertsForBothJobs() throws Exception {
    prometheus.assertRulesHealthy();
    // Pending, all of them (every for: is 5 minutes or more): the silent host, the hosts whose last backup
    // failed or was cancelled, those whose last ended with a warning, the open check_failed alerts, four
    // failed backups and four failed checks.
    Set<String> expected = Set.of("ResticManagerHostOffline", "ResticManagerBackupMissing",
        "ResticManagerBackupFailing", "ResticManagerBackupPartial", "ResticManagerCriticalAlertsOpen",
        "ResticManagerJobFailuresBurst");
    AtomicReference<String> seen = new AtomicReference<>();
    boolean same = poll(() -> {
      List<Row> ofThree = alerts(THREE);
      List<Row> ofOne = alerts(ONE);
      Set<String> names = new TreeSet<>();
      for (Map<String, Object> a : prometheus.vector("ALERTS{job=\"" + ONE + "\"}")) {
        names.add(labels(a).get("alertname"));
      }
      seen.set("three nodes: " + ofThree + "\none node:    " + ofOne);
      return names.equals(expected) && ofThree.equals(ofOne);
    });
    assertTrue(same, "alerts differ, or are not " + expected + ":\n" + seen.get());
  }

  // ---- the fleet ------------------------------------------------------------------------------

  /**
   * Host i's jobs, the same in both clusters. Each kind and status is sent to the sockets of at least two
   * nodes, so that no node's share is the fleet's. Each kind has an odd number of jobs whose durations fill
   * neighbouring buckets: p50 and p95 fall inside a bucket, never on the edge of an empty one, and so move
   * only a little with rate()'s extrapolation.
   */
  private static List<Job> jobsOf(int i, Instant base) {
    List<Job> jobs = new ArrayList<>();
    jobs.add(new Job("backup", "succeeded", base.minusSeconds(7200 + 60 * i), 31 + 3 * i, 1_000_000L * (i + 1)));
    jobs.add(new Job("backup", BACKUP_ENDINGS.get(i % 4), base.minusSeconds(1800 + 60 * i), 61 + 7 * i,
        200_000L * (i + 1)));
    if (i == 0) jobs.add(new Job("backup", "succeeded", base.minusSeconds(600), 45, 123_456));
    jobs.add(new Job("check", i % 2 == 1 ? "failed" : "succeeded", base.minusSeconds(900 + 30 * i), 310 + 29 * i, 0));
    if (i < 5) jobs.add(new Job("forget", "succeeded", base.minusSeconds(300 + 10 * i), 2 + i % 3, 0));
    if (i >= 6) jobs.add(new Job("prune", "succeeded", base.minusSeconds(200 + 10 * i), 700 + 50 * i, 0));
    return jobs;
  }

  private static void run(TestAgent a, Job j) throws InterruptedException {
    a.runJob(UUID.randomUUID(), j.kind(), j.status(), j.end().minusSeconds(j.seconds()), j.end(), j.dataAdded());
  }

  private static TestAgent agent(ClusterNodes c, int node, String hostname) throws Exception {
    TestServer.Enrolled e = c.api(node).enroll(hostname);
    TestAgent a = TestAgent.connectAndHello(c.wsUri(node), e.agentToken(), hostname);
    agents.add(a);
    return a;
  }

  private static Map<String, String> freshPostgres() {
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    schemas.add(pg);
    return Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user());
  }

  private static List<String> targets(ClusterNodes c) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < c.size(); i++) out.add("127.0.0.1:" + c.api(i).port());
    return out;
  }

  // ---- comparing --------------------------------------------------------------------------------

  /** A sample by its labels, without those a comparison leaves out. */
  private record Row(String labels, double value) {
    @Override
    public String toString() {
      return labels + " " + value;
    }
  }

  private static boolean aboutTheNodes(Dashboard.Query q) {
    return NODE_METRICS.containsAll(Dashboard.metricNamesIn(q.expr()));
  }

  /** The samples without the labels {@code leftOut}, in label order; a label set once per node is as many rows. */
  private static List<Row> rows(List<Map<String, Object>> vector, Set<String> leftOut) {
    List<Row> out = new ArrayList<>();
    for (Map<String, Object> sample : vector) {
      Map<String, String> labels = new TreeMap<>(labels(sample));
      labels.keySet().removeAll(leftOut);
      out.add(new Row(labels.toString(), number(value(sample))));
    }
    out.sort((a, b) -> a.labels().compareTo(b.labels()));
    return out;
  }

  /** The same label sets, each value equal (NaN to NaN) or within {@code tolerance} of the other. */
  private static boolean same(List<Row> a, List<Row> b, double tolerance) {
    if (a.size() != b.size()) return false;
    for (int i = 0; i < a.size(); i++) {
      double x = a.get(i).value();
      double y = b.get(i).value();
      if (!a.get(i).labels().equals(b.get(i).labels())) return false;
      if (Double.compare(x, y) != 0 && !(Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y)))) {
        return false;
      }
    }
    return true;
  }

  /** The job's pending and firing alerts, without their state, which depends on when each began. */
  private static List<Row> alerts(String job) throws Exception {
    return rows(prometheus.vector("ALERTS{job=\"" + job + "\"}"), Set.of("job", "alertstate"));
  }
}
