package io.resticmanager.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.Json;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The time-driven rules of CONTRACT §6 (agent_offline, backup_stale) on a real server whose deadlines
 * are shortened to about a second, so each test waits for the condition, never for a fixed time.
 */
class FleetDeadlinesIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final AtomicInteger HOSTS = new AtomicInteger();

  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, """
        restic-manager.agents.offline-after = 2s
        restic-manager.agents.heartbeat-interval = 300ms
        restic-manager.alerts.backup-max-age = 2s
        restic-manager.alerts.check-interval = 200ms
        """, Map.of());
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void aSilentAgentIsOfflineWithAnOpenAlertAndReconnectingResolvesIt() throws Exception {
    String name = name("silent");
    TestServer.Enrolled h = server.enroll(name);
    Map<String, Object> alert;
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      assertEquals(Boolean.TRUE, host(h.hostId()).get("online"));

      alert = Await.until(WAIT, () -> open(h.hostId(), "agent_offline"), l -> l.size() == 1).get(0);
      assertEquals("warning", alert.get("severity"));
      assertEquals(Boolean.FALSE, host(h.hostId()).get("online"));
      assertEquals(1001, agent.awaitClose(WAIT), "the server closes the silent connection, going away");
    }
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      Await.until(WAIT, () -> byId(h.hostId(), alert.get("id")).get("status"), "resolved"::equals);
      assertNotNull(byId(h.hostId(), alert.get("id")).get("resolved_at"));
    }
  }

  @Test
  void heartbeatsKeepAnAgentOnlineWhileASilentOneGoesOffline() throws Exception {
    String talker = name("talker");
    String mute = name("mute");
    TestServer.Enrolled ht = server.enroll(talker);
    TestServer.Enrolled hm = server.enroll(mute);
    ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    try (TestAgent a = TestAgent.connectAndHello(server.wsUri(), ht.agentToken(), talker);
        TestAgent b = TestAgent.connectAndHello(server.wsUri(), hm.agentToken(), mute)) {
      beat.scheduleAtFixedRate(() -> a.send("{\"type\":\"heartbeat\"}"), 0, 300, TimeUnit.MILLISECONDS);

      Await.until(WAIT, () -> open(hm.hostId(), "agent_offline"), l -> l.size() == 1);
      // The mute agent went offline well past the deadline for both: the talker must not have.
      Await.until(WAIT, () -> host(hm.hostId()).get("online"), Boolean.FALSE::equals);
      assertEquals(List.of(), open(ht.hostId(), "agent_offline"));
      assertEquals(Boolean.TRUE, host(ht.hostId()).get("online"));
      assertTrue(!a.isClosed());
    } finally {
      beat.shutdownNow();
    }
  }

  @Test
  void backupStaleIsRaisedAfterTheMaxAgeFromEnrolmentAndResolvedByASuccessfulBackup() throws Exception {
    String name = name("stale");
    TestServer.Enrolled h = server.enroll(name);
    Instant enrolled = Instant.parse(Json.str(host(h.hostId()), "enrolled_at"));

    Map<String, Object> alert = Await.until(WAIT, () -> open(h.hostId(), "backup_stale"), l -> l.size() == 1).get(0);
    assertEquals("warning", alert.get("severity"));
    Instant raised = Instant.parse(Json.str(alert, "raised_at"));
    assertTrue(!raised.isBefore(enrolled.plusSeconds(2)), "raised " + raised + ", enrolled " + enrolled);

    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      agent.runJob(UUID.randomUUID(), "backup", "failed", Instant.now(), Instant.now(), 0);
      assertEquals(1, open(h.hostId(), "backup_stale").size(), "a failed backup does not resolve it");

      Instant now = Instant.now();
      agent.runJob(UUID.randomUUID(), "backup", "succeeded", now, now.plusMillis(5), 10);
      assertEquals("resolved", byId(h.hostId(), alert.get("id")).get("status"));
      assertEquals(List.of(), open(h.hostId(), "backup_failed"));
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String name(String prefix) {
    return prefix + "-" + HOSTS.incrementAndGet();
  }

  private static Map<String, Object> host(String id) throws Exception {
    var r = server.admin("GET", "/api/v1/hosts/" + id, null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  private static List<Map<String, Object>> open(String hostId, String kind) throws Exception {
    return alerts("open", hostId, kind);
  }

  private static Map<String, Object> byId(String hostId, Object id) throws Exception {
    return alerts("all", hostId, null).stream().filter(a -> a.get("id").equals(id)).findFirst().orElseThrow();
  }

  private static List<Map<String, Object>> alerts(String status, String hostId, String kind) throws Exception {
    var r = server.admin("GET", "/api/v1/alerts?status=" + status + "&limit=1000", null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(r.body()).stream()
        .filter(a -> hostId.equals(a.get("host_id")) && (kind == null || kind.equals(a.get("kind")))).toList();
  }
}
