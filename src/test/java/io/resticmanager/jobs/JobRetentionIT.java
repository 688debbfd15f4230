package io.resticmanager.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resticmanager.support.Await;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RM_JOBS_RETENTION on a real server: with {@code 0} every job stays; with 30 days the cluster's pruner
 * deletes the finished jobs older than that, except running jobs and the newest job of each kind and
 * status, and the host's last success on /metrics is what it was.
 */
class JobRetentionIT {
  private static final String FAST_SWEEPS = "restic-manager.jobs.sweep-interval = 1s\n";

  @TempDir Path dir;

  @Test
  void zeroKeepsEveryJobAndThirtyDaysDeletesWhatIsOlderButTheNewestOfEachKindAndStatus() throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Set<String> all = new HashSet<>();
    Set<String> kept = new HashSet<>();
    String hostId;
    try (TestServer server = TestServer.start(dir, FAST_SWEEPS, Map.of("RM_JOBS_RETENTION", "0"))) {
      TestServer.Enrolled h = server.enroll("history");
      hostId = h.hostId();
      try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), "history")) {
        for (int i = 0; i < 5; i++) {
          UUID id = UUID.randomUUID();
          Instant end = now.minus(Duration.ofDays(45 - i));
          agent.runJob(id, "backup", "succeeded", end.minusSeconds(60), end, 10);
          all.add(id.toString());
        }
        UUID check = UUID.randomUUID();
        agent.runJob(check, "check", "failed", now.minus(Duration.ofDays(50)), now.minus(Duration.ofDays(50)), 0);
        UUID running = UUID.randomUUID();
        agent.send(TestAgent.started(running, "prune", now.minus(Duration.ofDays(60))));
        agent.awaitFrame(f -> f.contains("\"ack\"") && f.contains(running.toString()), Duration.ofSeconds(20));
        UUID recent = UUID.randomUUID();
        agent.runJob(recent, "backup", "succeeded", now.minus(Duration.ofHours(1)), now.minus(Duration.ofMinutes(50)), 10);
        all.addAll(Set.of(check.toString(), running.toString(), recent.toString()));
        kept.addAll(Set.of(check.toString(), running.toString(), recent.toString()));
      }
      Thread.sleep(3_000); // three sweep intervals: a pruner, had one started, would have run
      assertEquals(all, ids(server, hostId), "RM_JOBS_RETENTION=0 keeps every job");
    }

    try (TestServer server = TestServer.start(dir, FAST_SWEEPS,
        Map.of("RM_JOBS_RETENTION", "30d", "RM_METRICS_TRUSTED_CIDR", "127.0.0.1/32"))) {
      Set<String> left = Await.until(Duration.ofSeconds(30), () -> ids(server, hostId), kept::equals);
      assertEquals(kept, left, "older finished jobs deleted; the running one and the last failed check kept");
      long lastSuccess = now.minus(Duration.ofMinutes(50)).getEpochSecond();
      assertEquals(lastSuccess, server.api().metrics().one("restic_manager_host_last_success_timestamp_seconds",
          Map.of("host", "history", "kind", "backup")).number(), "the last success is still on /metrics");
      assertEquals(now.minus(Duration.ofDays(50)).getEpochSecond(), server.api().metrics().one(
          "restic_manager_host_last_job_timestamp_seconds", Map.of("host", "history", "kind", "check")).number(),
          "so is the last check, which is older than the retention");
    }
  }

  private static Set<String> ids(TestServer server, String hostId) throws Exception {
    Set<String> out = new HashSet<>();
    server.api().jobs(hostId).forEach(j -> out.add((String) j.get("id")));
    return out;
  }
}
