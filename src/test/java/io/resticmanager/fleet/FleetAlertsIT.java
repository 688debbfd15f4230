package io.resticmanager.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.support.Json;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The job-driven alert rules of CONTRACT §6 through the real server: agents report jobs over the
 * WebSocket, the admin API shows the alerts. Each test enrolls its own host on the shared server.
 */
class FleetAlertsIT {
  private static final AtomicInteger HOSTS = new AtomicInteger();
  private static final AtomicLong CLOCK = new AtomicLong(Instant.parse("2026-11-01T00:00:00Z").toEpochMilli());

  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @ParameterizedTest(name = "{0} {1} raises {2} ({3})")
  @CsvSource({
      "backup, failed,    backup_failed, warning",
      "backup, cancelled, backup_failed, warning",
      "forget, failed,    forget_failed, warning",
      "prune,  failed,    prune_failed,  critical",
      "check,  failed,    check_failed,  critical",
      "check,  cancelled, check_failed,  critical"})
  void aFailedJobRaisesItsAlertAndTheNextSuccessOfThatKindResolvesIt(
      String kind, String status, String alert, String severity) throws Exception {
    Host h = host("fail");
    try (TestAgent agent = h.connect()) {
      job(agent, kind, status);

      Map<String, Object> a = single(alerts(h.id(), "open"));
      assertEquals(alert, a.get("kind"));
      assertEquals(severity, a.get("severity"));
      assertEquals("open", a.get("status"));
      assertEquals(h.id(), a.get("host_id"));
      assertNotNull(a.get("raised_at"));
      assertNull(a.get("acknowledged_at"));
      assertNull(a.get("resolved_at"));
      assertTrue(Json.str(a, "message").contains(h.name()), a.toString());

      job(agent, kind, "succeeded");

      assertEquals(List.of(), alerts(h.id(), "open"));
      Map<String, Object> resolved = single(alerts(h.id(), "resolved"));
      assertEquals(a.get("id"), resolved.get("id"));
      assertEquals("resolved", resolved.get("status"));
      assertNotNull(resolved.get("resolved_at"));
      assertEquals(resolved, single(alerts(h.id(), "all")));
    }
  }

  @Test
  void repeatedFailuresKeepOneOpenAlertPerHostAndKind() throws Exception {
    Host h = host("flaky");
    try (TestAgent agent = h.connect()) {
      job(agent, "backup", "failed");
      String first = Json.str(single(alerts(h.id(), "open")), "id");
      job(agent, "backup", "failed");
      job(agent, "backup", "cancelled");
      job(agent, "prune", "failed");
      job(agent, "prune", "failed");

      List<Map<String, Object>> open = alerts(h.id(), "open");
      assertEquals(2, open.size(), open.toString());
      assertEquals(first, Json.str(open.stream().filter(a -> a.get("kind").equals("backup_failed")).findFirst()
          .orElseThrow(), "id"), "the first alert stays, no second one is raised");
      assertTrue(open.stream().anyMatch(a -> a.get("kind").equals("prune_failed")));
    }
  }

  @Test
  void aWarningBackupRaisesBackupPartialWhichOnlyASucceededBackupResolves() throws Exception {
    Host h = host("partial");
    try (TestAgent agent = h.connect()) {
      job(agent, "backup", "warning");
      Map<String, Object> partial = single(alerts(h.id(), "open"));
      assertEquals("backup_partial", partial.get("kind"));
      assertEquals("warning", partial.get("severity"));
      assertTrue(Json.str(partial, "message").contains(" could not read some files (exit code "), partial.toString());

      job(agent, "backup", "failed");
      job(agent, "backup", "warning");
      job(agent, "check", "succeeded");
      job(agent, "restore", "failed");
      List<Map<String, Object>> open = alerts(h.id(), "open");
      assertEquals(Set.of("backup_partial", "backup_failed"),
          Set.copyOf(open.stream().map(a -> a.get("kind")).toList()), open.toString());
      assertEquals(2, open.size(), "one open alert per kind: " + open);
      assertTrue(open.stream().anyMatch(a -> a.get("id").equals(partial.get("id"))), "the first one stays open");

      job(agent, "backup", "succeeded");
      assertEquals(List.of(), alerts(h.id(), "open"));
    }
  }

  @Test
  void anAcknowledgedAlertStaysOpenUntilResolved() throws Exception {
    Host h = host("acked");
    try (TestAgent agent = h.connect()) {
      job(agent, "check", "failed");
      String id = Json.str(single(alerts(h.id(), "open")), "id");

      var r = server.admin("POST", "/api/v1/alerts/" + id + "/ack", null);
      assertEquals(200, r.statusCode(), r.body());
      Map<String, Object> acked = Json.object(r.body());
      assertEquals("open", acked.get("status"));
      String at = Json.str(acked, "acknowledged_at");
      assertNotNull(at);
      Instant.parse(at);

      Map<String, Object> listed = single(alerts(h.id(), "open"));
      assertEquals(at, listed.get("acknowledged_at"));
      assertEquals(at, Json.object(server.admin("POST", "/api/v1/alerts/" + id + "/ack", null).body())
          .get("acknowledged_at"), "a second ack keeps the first time");

      job(agent, "check", "failed");
      assertEquals(id, single(alerts(h.id(), "open")).get("id"), "still the one acknowledged alert");

      job(agent, "check", "succeeded");
      Map<String, Object> resolved = single(alerts(h.id(), "resolved"));
      assertEquals(at, resolved.get("acknowledged_at"));
      assertEquals(404, server.admin("POST", "/api/v1/alerts/" + UUID.randomUUID() + "/ack", null).statusCode());
    }
  }

  @Test
  void hostsOpenAlertsAndJobHistorySurviveARestartOnTheSameDataDir(@TempDir Path own) throws Exception {
    restartKeepsState(own, Map.of());
  }

  @Test
  void hostsOpenAlertsAndJobHistorySurviveARestartOnPostgres(@TempDir Path own) throws Exception {
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    try {
      restartKeepsState(own, Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user()));
    } finally {
      TestDatabases.dropPostgresSchema(pg);
    }
  }

  private static void restartKeepsState(Path own, Map<String, String> env) throws Exception {
    try (TestServer s = TestServer.start(own, "", env)) {
      TestServer.Enrolled a = s.enroll("keep-a");
      TestServer.Enrolled b = s.enroll("keep-b");
      UUID failed = UUID.randomUUID();
      String alertId;
      try (TestAgent agent = TestAgent.connectAndHello(s.wsUri(), a.agentToken(), "keep-a")) {
        agent.runJob(UUID.randomUUID(), "backup", "succeeded", at(0), at(30), 5);
        agent.runJob(failed, "prune", "failed", at(100), at(160), 0);
        alertId = Json.str(single(Json.objects(s.admin("GET", "/api/v1/alerts", null).body())), "id");
        assertEquals(200, s.admin("POST", "/api/v1/alerts/" + alertId + "/ack", null).statusCode());
      }
      String hostsBefore = s.admin("GET", "/api/v1/hosts/" + a.hostId(), null).body();
      String jobsBefore = s.admin("GET", "/api/v1/jobs", null).body();
      String alertsBefore = s.admin("GET", "/api/v1/alerts?status=all", null).body();

      s.restart();

      List<Map<String, Object>> hosts = Json.objects(s.admin("GET", "/api/v1/hosts", null).body());
      assertEquals(List.of("keep-a", "keep-b"), hosts.stream().map(x -> x.get("name")).toList());
      assertEquals(hostsBefore.replace("\"online\":true", "\"online\":false"),
          s.admin("GET", "/api/v1/hosts/" + a.hostId(), null).body());
      assertEquals(jobsBefore, s.admin("GET", "/api/v1/jobs", null).body());
      assertEquals(alertsBefore, s.admin("GET", "/api/v1/alerts?status=all", null).body());

      // The agent token still works, and the alert loaded from the store is still the one open alert.
      try (TestAgent agent = TestAgent.connectAndHello(s.wsUri(), a.agentToken(), "keep-a")) {
        agent.send(TestAgent.finished(failed, "failed", at(160), 1, 0));
        agent.awaitFrame(f -> f.contains("\"ack\"") && f.contains(failed.toString()), Duration.ofSeconds(10));
        agent.runJob(UUID.randomUUID(), "prune", "failed", at(200), at(260), 0);
        assertEquals(alertId, single(Json.objects(s.admin("GET", "/api/v1/alerts", null).body())).get("id"));
        agent.runJob(UUID.randomUUID(), "prune", "succeeded", at(300), at(360), 0);
        assertEquals(List.of(), Json.objects(s.admin("GET", "/api/v1/alerts", null).body()));
      }
      assertEquals(201, s.admin("POST", "/api/v1/enrollment-tokens", "{}").statusCode());
      assertNotNull(b.hostId());
    }
  }

  @Test
  void aRestartWithAgentsStillConnectedClosesThemAndDoesNotWaitForThem(@TempDir Path own) throws Exception {
    try (TestServer s = TestServer.start(own)) {
      TestServer.Enrolled a = s.enroll("linger-a");
      TestServer.Enrolled b = s.enroll("linger-b");
      try (TestAgent helloed = TestAgent.connectAndHello(s.wsUri(), a.agentToken(), "linger-a");
          TestAgent quiet = TestAgent.connect(s.wsUri(), b.agentToken())) {
        Duration stop = s.restart();

        assertEquals(1001, helloed.awaitClose(Duration.ofSeconds(1)), "going away");
        assertEquals(1001, quiet.awaitClose(Duration.ofSeconds(1)), "going away, hello or not");
        // Waiting for the sockets would take the whole agent drain bound (10 s), if not the 30 s idle
        // timeout; closing them takes a moment, even on a loaded machine.
        assertTrue(stop.compareTo(Duration.ofSeconds(8)) < 0, "the stop took " + stop);
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private record Host(String name, String id, String token) {
    TestAgent connect() throws Exception {
      return TestAgent.connectAndHello(server.wsUri(), token, name);
    }
  }

  private static Host host(String prefix) throws Exception {
    String name = prefix + "-" + HOSTS.incrementAndGet();
    TestServer.Enrolled e = server.enroll(name);
    return new Host(name, e.hostId(), e.agentToken());
  }

  private static Instant at(long seconds) {
    return Instant.parse("2026-11-01T00:00:00Z").plusSeconds(seconds);
  }

  /** Runs one job to its acked end; each job a minute after the previous one. */
  private static void job(TestAgent agent, String kind, String status) throws Exception {
    long start = CLOCK.addAndGet(60_000);
    agent.runJob(UUID.randomUUID(), kind, status, Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + 10_000), 1);
  }

  private static List<Map<String, Object>> alerts(String hostId, String status) throws Exception {
    var r = server.admin("GET", "/api/v1/alerts?status=" + status, null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(r.body()).stream().filter(a -> hostId.equals(a.get("host_id"))).toList();
  }

  private static Map<String, Object> single(List<Map<String, Object>> list) {
    assertEquals(1, list.size(), list.toString());
    return list.get(0);
  }
}
