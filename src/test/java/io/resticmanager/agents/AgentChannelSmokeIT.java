package io.resticmanager.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentChannelSmokeIT {
  @TempDir Path dir;

  @Test
  void agentEnrollsConnectsAndGetsJobsAcked() throws Exception {
    try (TestServer s = TestServer.start(dir, "", Map.of("RM_METRICS_TOKEN", "metrics-token-123"))) {
      TestServer.Enrolled e = s.enroll("web-1");
      try (TestAgent a = TestAgent.connectAndHello(s.wsUri(), e.agentToken(), "web-1")) {
        UUID job = UUID.randomUUID();
        Instant t = Instant.parse("2026-11-28T01:00:00Z");
        a.runJob(job, "backup", "succeeded", t, t.plusSeconds(42), 1234);
        String metrics = s.get("/metrics", "metrics-token-123").body();
        assertTrue(metrics.contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"), metrics);
        assertTrue(metrics.contains("restic_manager_host_last_backup_added_bytes{host=\"web-1\"} 1234"), metrics);
        assertEquals(200, s.admin("GET", "/api/v1/hosts", null).statusCode());
        a.send(TestAgent.finished(job, "succeeded", t.plusSeconds(42), 0, 1234));
        a.awaitFrame(f -> f.contains("\"ack\"") && f.contains("job.finished"), Duration.ofSeconds(10));
        String again = s.get("/metrics", "metrics-token-123").body();
        assertTrue(again.contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"), again);
      }
    }
  }
}
