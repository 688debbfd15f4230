package io.resticmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.support.Await;
import io.resticmanager.support.ClusterNodes;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same workload on one node and on three (issue 13, item 7; contract §7): summed over the three nodes
 * as the contract says ({@code sum} for the fleet gauges and every histogram bucket, {@code max by (host)}
 * for the per-host rows), {@code /metrics} gives what the single node shows. Each host's jobs reach
 * whichever node its agent connected to; the host's entity may run on another.
 */
class ClusterSumsIT {
  private static final int HOSTS = 12;
  private static final int JOBS = 15;
  /** Recent enough that no host's last success is older than alerts.backup-max-age (26 h): no staleness. */
  private static final Instant T0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofHours(20));
  private static final String[] KINDS = {"backup", "backup", "check", "forget", "prune"};
  private static final String[] STATUSES = {"succeeded", "succeeded", "succeeded", "failed", "warning", "cancelled"};
  /** Families whose rows depend on the wall clock or on the node, not on the workload. */
  private static final List<String> NOT_COMPARED = List.of("restic_manager_host_last_seen_timestamp_seconds",
      "restic_manager_build_info", "restic_manager_cluster_members");

  @TempDir Path dir;
  private final List<Settings.Db> schemas = new ArrayList<>();

  @AfterEach
  void dropSchemas() {
    schemas.forEach(TestDatabases::dropPostgresSchema);
  }

  @Test
  void everyFamilySummedOverThreeNodesEqualsTheSingleNodes() throws Exception {
    Map<String, Double> one;
    try (ClusterNodes single = ClusterNodes.start(dir.resolve("one"), 1, freshPostgres(), "", Map.of())) {
      one = runWorkload(single);
    }
    Map<String, Double> three;
    try (ClusterNodes c = ClusterNodes.start(dir.resolve("three"), 3, freshPostgres(), "", Map.of())) {
      three = runWorkload(c);
    }
    assertTrue(one.containsKey("restic_manager_job_duration_seconds_bucket{kind=backup,le=+Inf,status=succeeded}"),
        one.keySet().toString());
    assertEquals(HOSTS * JOBS, one.entrySet().stream()
        .filter(e -> e.getKey().startsWith("restic_manager_job_duration_seconds_count")).mapToDouble(Map.Entry::getValue)
        .sum());
    assertEquals(new TreeMap<>(one), new TreeMap<>(three));
  }

  private Map<String, String> freshPostgres() {
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    schemas.add(pg);
    return Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user());
  }

  /**
   * Enrolls the hosts and runs the same jobs (seeded) for each, host i's agent on node i mod n; with the
   * agents still connected, returns every series of every node's /metrics aggregated as contract §7 says.
   */
  private static Map<String, Double> runWorkload(ClusterNodes c) throws Exception {
    int n = c.size();
    List<TestAgent> agents = new ArrayList<>();
    try {
      for (int h = 0; h < HOSTS; h++) {
        String name = "host-" + h;
        TestServer.Enrolled e = c.api(h % n).enroll(name);
        TestAgent a = TestAgent.connectAndHello(c.wsUri((h + 1) % n), e.agentToken(), name);
        agents.add(a);
        Random r = new Random(h);
        for (int j = 0; j < JOBS; j++) {
          Instant start = T0.plusSeconds(3_600L * j + h);
          long seconds = (long) Math.pow(10, r.nextDouble() * 4.5); // 1 s .. 9 h: every bucket gets some
          a.runJob(UUID.randomUUID(), KINDS[r.nextInt(KINDS.length)], STATUSES[r.nextInt(STATUSES.length)],
              start, start.plusSeconds(seconds), r.nextInt(1 << 20));
        }
        a.send(TestAgent.repositoryStats(T0.plusSeconds(h), r.nextInt(100), r.nextInt(1 << 30),
            h % 2 == 0 ? null : (long) r.nextInt(1 << 30)));
      }
      // Every node's share is in: the hosts' rows (repository statistics included) and the counts of every job end.
      Await.until(Duration.ofSeconds(60), () -> {
        Map<String, Double> m = aggregate(c);
        return m.getOrDefault("restic_manager_hosts{state=online}", 0.0) == HOSTS
            && m.keySet().stream().filter(k -> k.startsWith("restic_manager_host_info{")).count() == HOSTS
            && m.keySet().stream().filter(k -> k.startsWith("restic_manager_host_snapshots{")).count() == HOSTS
            && m.entrySet().stream().filter(e -> e.getKey().startsWith("restic_manager_job_duration_seconds_count"))
                .mapToDouble(Map.Entry::getValue).sum() == HOSTS * JOBS
            && m.entrySet().stream().filter(e -> e.getKey().startsWith("restic_manager_host_open_alerts{"))
                .mapToDouble(Map.Entry::getValue).sum()
                == m.entrySet().stream().filter(e -> e.getKey().startsWith("restic_manager_alerts_open{"))
                .mapToDouble(Map.Entry::getValue).sum();
      });
      return aggregate(c);
    } finally {
      agents.forEach(TestAgent::close);
    }
  }

  /**
   * Every series of every running node, keyed by name and sorted labels: per-host families by
   * {@code max}, everything else by {@code sum}.
   */
  private static Map<String, Double> aggregate(ClusterNodes c) throws Exception {
    Map<String, Double> out = new TreeMap<>();
    for (int i : c.live()) {
      for (Exposition.Sample s : c.api(i).metrics().samples()) {
        if (NOT_COMPARED.contains(s.name())) continue;
        String key = s.name() + new TreeMap<>(s.labels()).toString().replace(" ", "").replace("{}", "");
        boolean perHost = s.labels().containsKey("host");
        out.merge(key, s.number(), perHost ? Math::max : Double::sum);
      }
    }
    return out;
  }
}
