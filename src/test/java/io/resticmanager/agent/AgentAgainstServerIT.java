package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real agent with the real {@code restic} against the real server: enrollment through the API, a
 * backup whose summary and snapshot id reach the jobs API and /metrics, and a job that ends while the
 * server is down delivered from the outbox after the server comes back. Over plain HTTP, and over TLS
 * (issue 12): the server with a certificate from a test CA speaks only HTTPS and WSS, and the agent, given
 * {@code https://} and that CA in {@code RM_SERVER_CA_FILE}, enrolls, connects and reconnects after the
 * restart through them.
 */
class AgentAgainstServerIT {
  @TempDir Path dir;

  @ParameterizedTest(name = "over {0}")
  @ValueSource(strings = {"http", "https"})
  // An agent that cannot enroll (a server it does not trust, say) retries for ever: fail instead of hanging.
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void backupReachesTheServerAndTheOutboxDeliversAcrossAServerRestart(String scheme) throws Exception {
    Path restic = Tools.executable("restic");
    Path repo = dir.resolve("repo");
    Path password = dir.resolve("password");
    Files.writeString(password, "correct horse battery staple\n");
    Path data = Files.createDirectories(dir.resolve("sample"));
    Files.writeString(data.resolve("a.txt"), "hello restic\n");
    Map<String, String> resticEnv = Map.of("RESTIC_REPOSITORY", repo.toString(),
        "RESTIC_PASSWORD_FILE", password.toString(), "PATH", System.getenv().getOrDefault("PATH", "/usr/bin"));
    ProcessBuilder pb = new ProcessBuilder(restic.toString(), "init").redirectErrorStream(true);
    pb.environment().putAll(resticEnv);
    Process p = pb.start();
    p.getInputStream().readAllBytes();
    assertEquals(0, p.waitFor(), "restic init");

    Map<String, String> serverEnv = new HashMap<>(Map.of("RM_METRICS_TOKEN", "metrics-token-abc"));
    Map<String, String> env = new HashMap<>(resticEnv);
    if (scheme.equals("https")) {
      TestCerts ca = TestCerts.authority(dir.resolve("certs"), "agent-it");
      TestCerts.Pair pair = ca.server(TestCerts.Alg.RSA);
      serverEnv.put("RM_TLS_CERT_FILE", pair.cert().toString());
      serverEnv.put("RM_TLS_KEY_FILE", pair.key().toString());
      env.put("RM_SERVER_CA_FILE", ca.caCert().toString());
    }
    try (TestServer server = TestServer.start(dir.resolve("server"), "", serverEnv)) {
      HttpToken token = enrollmentToken(server);
      Path agentConf = dir.resolve("agent.conf");
      Files.writeString(agentConf, """
          restic-manager.agent.schedules.backup.interval = 0s
          restic-manager.agent.schedules.check.interval = 0s
          restic-manager.agent.reconnect { min-backoff = 200ms, max-backoff = 1s }
          """);
      env.put("RM_SERVER_URL", scheme + "://127.0.0.1:" + server.port());
      env.put("RM_ENROLLMENT_TOKEN", token.value());
      env.put("RM_HOSTNAME", "agent-it");
      env.put("RM_BACKUP_PATHS", data.toString());
      env.put("RM_DATA_DIR", dir.resolve("agent").toString());
      CountDownLatch stop = new CountDownLatch(1);
      try (Agent agent = Agent.start(AgentSettings.load(Optional.of(agentConf), env), env, stop)) {
        assertTrue(agent.runNow(JobKind.BACKUP));
        await(() -> jobs(server).contains("\"status\":\"succeeded\""), "the backup is stored");
        String jobs = jobs(server);
        assertTrue(jobs.contains("\"snapshot_id\":\""), jobs);
        assertTrue(jobs.contains("\"files_new\":1"), jobs);
        assertTrue(server.get("/metrics", "metrics-token-abc").body()
            .contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"));

        // The server goes away; a job ends meanwhile and waits in the outbox.
        server.server().stop();
        Files.writeString(data.resolve("b.txt"), "written while the server is down\n");
        assertTrue(agent.runNow(JobKind.BACKUP));
        await(() -> agent.outbox().size() >= 2, "start and end of the second backup wait in the outbox");
        assertFalse(agent.connected());
        server.restart();
        await(() -> agent.outbox().size() == 0, "the outbox drains after the server is back");
        await(() -> count(jobs(server), "\"status\":\"succeeded\"") == 2, "both backups are stored");
        assertTrue(server.get("/metrics", "metrics-token-abc").body()
            .contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"),
            "the histogram restarts with the process and counts the delivered job once");
      }
    }
  }

  private record HttpToken(String value) {}

  private static HttpToken enrollmentToken(TestServer s) throws Exception {
    return new HttpToken(TestServer.field(s.admin("POST", "/api/v1/enrollment-tokens", "{}").body(), "token"));
  }

  private static String jobs(TestServer s) {
    try {
      return s.admin("GET", "/api/v1/jobs", null).body();
    } catch (Exception e) {
      return "";
    }
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
    return n;
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }
}
