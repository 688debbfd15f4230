package io.resticmanager.agents;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.support.Await;
import io.resticmanager.support.ConnectionActors;
import io.resticmanager.support.Json;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent channel of CONTRACT §4 end to end: a real server bound to a free port, agents played by the
 * JDK WebSocket client. One server for the class (hello deadline shortened); every test enrolls its own
 * hosts, so the tests do not see each other's state except in the shared job histograms.
 */
class AgentChannelIT {
  private static final String METRICS_TOKEN = "metrics-token-agent-channel";
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Instant T0 = Instant.parse("2026-11-28T01:00:00Z");
  private static final int MIB = 1 << 20;
  private static final AtomicInteger HOSTS = new AtomicInteger();

  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "restic-manager.agents.hello-timeout = 2s\n",
        Map.of("RM_METRICS_TOKEN", METRICS_TOKEN));
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  // ------------------------------------------------------------------ happy path

  @Test
  void helloIsAnsweredWithWelcomeAndMarksTheHostOnline() throws Exception {
    String name = hostName("hello");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connect(server.wsUri(), host.agentToken())) {
      agent.send(TestAgent.hello(name));
      Map<String, Object> welcome = Json.object(agent.awaitFrame(type("welcome"), WAIT));

      assertEquals(host.hostId(), Json.str(welcome, "host_id"));
      assertFalse(Json.str(welcome, "server_version").isBlank(), welcome.toString());
      assertEquals(30.0, Json.num(welcome, "heartbeat_interval_seconds"), "the default heartbeat interval");

      Map<String, Object> view = Json.object(server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).body());
      assertEquals(Boolean.TRUE, view.get("online"));
      assertEquals("test-1.0", view.get("agent_version"));
      assertEquals("0.16.4", view.get("restic_version"));
      assertEquals("linux", view.get("os"));
      assertNotNull(view.get("last_seen_at"));
    }
  }

  @Test
  void aSecondHelloOnTheSameSocketIsWelcomedAgainAndUpdatesTheVersions() throws Exception {
    String name = hostName("rehello");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      agent.send(TestAgent.hello(name).replace("test-1.0", "test-2.0"));
      assertEquals(host.hostId(), Json.object(agent.awaitFrame(type("welcome"), WAIT)).get("host_id"));
      provesOpen(agent);
      Map<String, Object> view = Json.object(server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).body());
      assertEquals("test-2.0", view.get("agent_version"));
      assertEquals(Boolean.TRUE, view.get("online"));
    }
  }

  @Test
  void startedAndFinishedAreAckedStoredAndListedWithTheirDuration() throws Exception {
    String name = hostName("happy");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      UUID job = UUID.randomUUID();
      agent.send(TestAgent.started(job, "backup", T0));
      Map<String, Object> ack = Json.object(agent.awaitFrame(type("ack"), WAIT));
      assertEquals("job.started", ack.get("of"));
      assertEquals(job.toString(), ack.get("job_id"));

      agent.send(TestAgent.finished(job, "succeeded", T0.plusMillis(42_500), 0, 1234));
      ack = Json.object(agent.awaitFrame(type("ack"), WAIT));
      assertEquals("job.finished", ack.get("of"));
      assertEquals(job.toString(), ack.get("job_id"));

      List<Map<String, Object>> jobs = Json.objects(
          server.admin("GET", "/api/v1/jobs?host=" + host.hostId(), null).body());
      assertEquals(1, jobs.size(), jobs.toString());
      Map<String, Object> j = jobs.get(0);
      assertEquals(job.toString(), j.get("id"));
      assertEquals(host.hostId(), j.get("host_id"));
      assertEquals("backup", j.get("kind"));
      assertEquals("succeeded", j.get("status"));
      assertEquals(T0.toString(), j.get("started_at"));
      assertEquals(T0.plusMillis(42_500).toString(), j.get("finished_at"));
      assertEquals(42.5, Json.num(j, "duration_seconds"));
      Map<String, Object> summary = Json.obj(j, "summary");
      assertEquals(1234.0, Json.num(summary, "data_added"));
      assertEquals(4.0, Json.num(summary, "total_files_processed"));
      assertEquals("abcdef12", summary.get("snapshot_id"));
    }
  }

  @Test
  void resentStartAndFinishAreAckedAgainAndTheDurationIsRecordedOnce() throws Exception {
    String name = hostName("resend");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      long before = durations().count(JobKind.PRUNE, JobStatus.WARNING);
      UUID job = UUID.randomUUID();
      agent.runJob(job, "prune", "warning", T0, T0.plusSeconds(90), 0);

      // At least once: the agent did not see the acks and sends both again, the start with another time.
      agent.send(TestAgent.started(job, "prune", T0.minusSeconds(3600)));
      awaitAck(agent, "job.started", job);
      agent.send(TestAgent.finished(job, "warning", T0.plusSeconds(90), 3, 0));
      awaitAck(agent, "job.finished", job);

      JobDurations after = durations();
      assertEquals(before + 1, after.count(JobKind.PRUNE, JobStatus.WARNING));
      String metrics = metrics();
      assertTrue(metrics.contains(
          "restic_manager_job_duration_seconds_count{kind=\"prune\",status=\"warning\"} " + (before + 1) + "\n"),
          metrics);
      List<Map<String, Object>> jobs = Json.objects(
          server.admin("GET", "/api/v1/jobs?host=" + host.hostId(), null).body());
      assertEquals(1, jobs.size());
      assertEquals(T0.toString(), jobs.get(0).get("started_at"), "a repeated start changes nothing");
      assertEquals(90.0, Json.num(jobs.get(0), "duration_seconds"));
    }
  }

  @Test
  void aFinishBeforeItsStartHasDurationZeroAndProgressAndHeartbeatGetNoAnswer() throws Exception {
    String name = hostName("clock");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      UUID job = UUID.randomUUID();
      agent.send(TestAgent.started(job, "check", T0));
      awaitAck(agent, "job.started", job);
      agent.send("{\"type\":\"job.progress\",\"job_id\":\"" + job + "\",\"percent_done\":0.5,"
          + "\"bytes_done\":10,\"files_done\":2}");
      agent.send("{\"type\":\"heartbeat\"}");
      agent.send(TestAgent.finished(job, "succeeded", T0.minusSeconds(30), 0, 0));
      Map<String, Object> next = Json.object(agent.awaitFrame(f -> true, WAIT));
      assertEquals("ack", next.get("type"), "progress and heartbeat are not answered: " + next);
      assertEquals("job.finished", next.get("of"));

      Map<String, Object> j = Json.objects(server.admin("GET", "/api/v1/jobs?host=" + host.hostId(), null).body()).get(0);
      assertEquals(0.0, Json.num(j, "duration_seconds"), "clamped at 0");
    }
  }

  @Test
  void repositoryStatsGetNoAnswerAndTheLatestIsShownOnMetrics() throws Exception {
    String name = hostName("stats");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      assertFalse(metrics().contains("restic_manager_host_snapshots{host=\"" + name + "\"}"), "none before any");
      agent.send(TestAgent.repositoryStats(T0, 7, 123_456_789, null));
      UUID job = UUID.randomUUID();
      agent.send(TestAgent.started(job, "check", T0));
      Map<String, Object> next = Json.object(agent.awaitFrame(f -> true, WAIT));
      assertEquals("ack", next.get("type"), "repository.stats is not answered: " + next);
      Await.until(WAIT, () -> metrics().contains("restic_manager_host_snapshots{host=\"" + name + "\"} 7\n"));

      // Resent after a reconnect, then newer ones: the latest is kept.
      agent.send(TestAgent.repositoryStats(T0, 7, 123_456_789, null));
      agent.send(TestAgent.repositoryStats(T0.plusSeconds(3600), 8, 130_000_000, 150_000_000L));
      Await.until(WAIT, () -> metrics().contains(
          "restic_manager_host_repository_uncompressed_size_bytes{host=\"" + name + "\"} 150000000\n"));
      String m = metrics();
      assertTrue(m.contains("restic_manager_host_snapshots{host=\"" + name + "\"} 8\n"), m);
      assertTrue(m.contains("restic_manager_host_repository_size_bytes{host=\"" + name + "\"} 130000000\n"), m);
      assertTrue(m.contains("restic_manager_host_repository_stats_timestamp_seconds{host=\"" + name + "\"} "
          + T0.plusSeconds(3600).getEpochSecond() + "\n"), m);
      provesOpen(agent);
    }
  }

  @Test
  void manyJobEventsSentWithoutWaitingAreAllAcked() throws Exception {
    String name = hostName("burst");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      int jobs = 300;
      List<UUID> ids = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        UUID id = UUID.randomUUID();
        ids.add(id);
        agent.send(TestAgent.started(id, "backup", T0.plusSeconds(i)));
        agent.send(TestAgent.finished(id, "succeeded", T0.plusSeconds(i + 1), 0, i));
      }
      java.util.Set<String> acked = new java.util.HashSet<>();
      while (acked.size() < 2 * jobs) {
        Map<String, Object> ack = Json.object(agent.awaitFrame(type("ack"), WAIT));
        acked.add(ack.get("of") + " " + ack.get("job_id"));
      }
      for (UUID id : ids) assertTrue(acked.contains("job.finished " + id));
      assertEquals(jobs, Json.objects(
          server.admin("GET", "/api/v1/jobs?limit=1000&host=" + host.hostId(), null).body()).size());
    }
  }

  // ------------------------------------------------------------------ error codes

  static Stream<Arguments> badFrames() {
    UUID job = UUID.randomUUID();
    String at = T0.toString();
    return Stream.of(
        Arguments.of("bad_json", "{\"type\":\"heartbeat\"", null),
        Arguments.of("bad_json", "[1,2,3]", null),
        Arguments.of("unknown_type", "{\"type\":\"job.exploded\"}", null),
        Arguments.of("unknown_type", "{\"type\":\"welcome\",\"host_id\":\"x\",\"server_version\":\"1\","
            + "\"heartbeat_interval_seconds\":30}", null),
        Arguments.of("invalid_field", "{\"type\":\"job.started\",\"job_id\":\"not-a-uuid\",\"kind\":\"backup\","
            + "\"started_at\":\"" + at + "\"}", "job_id"),
        Arguments.of("invalid_field", "{\"type\":\"job.started\",\"job_id\":\"" + job + "\",\"kind\":\"backup\","
            + "\"started_at\":\"yesterday\"}", "started_at"),
        Arguments.of("invalid_field", "{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"failed\","
            + "\"finished_at\":\"" + at + "\"}", "exit_code"),
        Arguments.of("unknown_kind", "{\"type\":\"job.started\",\"job_id\":\"" + job + "\",\"kind\":\"defrag\","
            + "\"started_at\":\"" + at + "\"}", null),
        Arguments.of("unknown_status", "{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"exploded\","
            + "\"finished_at\":\"" + at + "\",\"exit_code\":1}", null),
        Arguments.of("unknown_job", TestAgent.finished(job, "succeeded", T0, 0, 1), null),
        Arguments.of("invalid_field", TestAgent.repositoryStats(T0, -1, 1024, null), "snapshot_count"),
        Arguments.of("invalid_field", TestAgent.repositoryStats(T0, 3, -1024, null), "total_size_bytes"),
        Arguments.of("invalid_field", TestAgent.repositoryStats(T0, 3, 1024, -1L), "total_uncompressed_size_bytes"),
        Arguments.of("invalid_field", TestAgent.repositoryStats(T0, 3, 1024, null).replace(at, "last tuesday"),
            "collected_at"));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("badFrames")
  void aBadFrameGetsItsErrorCodeAndTheConnectionStaysOpen(String code, String frame, String field) throws Exception {
    String name = hostName("err");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      agent.send(frame);
      Map<String, Object> error = Json.object(agent.awaitFrame(type("error"), WAIT));
      assertEquals(code, error.get("code"), error.toString());
      assertFalse(Json.str(error, "message").isBlank());
      if (field != null) {
        assertTrue(Json.str(error, "message").contains("\"" + field + "\""), "names the field: " + error);
      }
      if (code.equals("unknown_job")) assertNotNull(error.get("job_id"), "the error names the job: " + error);
      provesOpen(agent);
    }
  }

  @Test
  void aJobFrameBeforeHelloGetsHelloRequiredAndHelloStillWorksAfterIt() throws Exception {
    String name = hostName("early");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connect(server.wsUri(), host.agentToken())) {
      agent.send(TestAgent.started(UUID.randomUUID(), "backup", T0));
      Map<String, Object> error = Json.object(agent.awaitFrame(type("error"), WAIT));
      assertEquals("hello_required", error.get("code"));

      agent.send(TestAgent.hello(name));
      agent.awaitFrame(type("welcome"), WAIT);
      provesOpen(agent);
    }
  }

  @Test
  void aJobIdOfAnotherHostIsAnInvalidField() throws Exception {
    String a = hostName("owner");
    String b = hostName("thief");
    TestServer.Enrolled ha = server.enroll(a);
    TestServer.Enrolled hb = server.enroll(b);
    try (TestAgent agentA = TestAgent.connectAndHello(server.wsUri(), ha.agentToken(), a);
        TestAgent agentB = TestAgent.connectAndHello(server.wsUri(), hb.agentToken(), b)) {
      UUID job = UUID.randomUUID();
      agentA.send(TestAgent.started(job, "check", T0));
      awaitAck(agentA, "job.started", job);

      agentB.send(TestAgent.started(job, "check", T0));
      Map<String, Object> error = Json.object(agentB.awaitFrame(type("error"), WAIT));
      assertEquals("invalid_field", error.get("code"));
      assertTrue(Json.str(error, "message").contains("\"job_id\""), error.toString());
      agentB.send(TestAgent.finished(job, "failed", T0.plusSeconds(1), 1, 0));
      assertEquals("unknown_job", Json.object(agentB.awaitFrame(type("error"), WAIT)).get("code"));
      provesOpen(agentB);
    }
  }

  @Test
  void aBinaryFrameGetsAnErrorAndTheConnectionStaysOpen() throws Exception {
    String name = hostName("binary");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      agent.socket().sendBinary(ByteBuffer.wrap("{\"type\":\"heartbeat\"}".getBytes(UTF_8)), true).join();
      Map<String, Object> error = Json.object(agent.awaitFrame(type("error"), WAIT));
      assertEquals("bad_json", error.get("code"));
      provesOpen(agent);
    }
  }

  @Test
  void aFragmentedTextMessageIsAssembledAndHandled() throws Exception {
    String name = hostName("fragments");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      UUID job = UUID.randomUUID();
      String frame = TestAgent.started(job, "forget", T0);
      WebSocket ws = agent.socket();
      ws.sendText(frame.substring(0, 10), false).join();
      ws.sendText(frame.substring(10, 40), false).join();
      ws.sendText(frame.substring(40), true).join();
      awaitAck(agent, "job.started", job);
    }
  }

  // ------------------------------------------------------------------ size cap

  @Test
  void aFrameOfExactlyOneMebibyteIsTakenAndOneByteMoreClosesWith1009() throws Exception {
    String big = hostName("big");
    String other = hostName("bystander");
    TestServer.Enrolled hb = server.enroll(big);
    TestServer.Enrolled ho = server.enroll(other);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), hb.agentToken(), big);
        TestAgent bystander = TestAgent.connectAndHello(server.wsUri(), ho.agentToken(), other)) {
      agent.send(paddedHeartbeat(MIB));
      provesOpen(agent);

      List<ActorRef<Object>> actors = connectionActors(hb.hostId(), 1);
      agent.socket().sendText(paddedHeartbeat(MIB + 1), true);
      assertEquals(1009, agent.awaitClose(WAIT));
      probe().expectTerminated(actors.get(0), Duration.ofSeconds(5));

      assertFalse(bystander.isClosed());
      provesOpen(bystander);
    }
  }

  @Test
  void aFragmentedMessageOverOneMebibyteClosesWith1009() throws Exception {
    String name = hostName("bigparts");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      String text = paddedHeartbeat(MIB + 100);
      int part = 256 * 1024;
      for (int i = 0; i < text.length(); i += part) {
        boolean last = i + part >= text.length();
        agent.socket().sendText(text.substring(i, Math.min(text.length(), i + part)), last);
        if (agent.isClosed()) break;
      }
      assertEquals(1009, agent.awaitClose(WAIT));
    }
  }

  @Test
  void aBinaryFrameOverOneMebibyteAlsoClosesWith1009() throws Exception {
    String name = hostName("bigbinary");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      agent.socket().sendBinary(ByteBuffer.allocate(MIB), true).join();
      assertEquals("bad_json", Json.object(agent.awaitFrame(type("error"), WAIT)).get("code"));
      provesOpen(agent);

      agent.socket().sendBinary(ByteBuffer.allocate(MIB + 1), true);
      assertEquals(1009, agent.awaitClose(WAIT));
    }
  }

  // ------------------------------------------------------------------ hello rules and replacement

  @Test
  void noHelloWithinTheDeadlineClosesWith1008AndTheConnectionActorStops() throws Exception {
    String name = hostName("mute");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connect(server.wsUri(), host.agentToken())) {
      List<ActorRef<Object>> actors = connectionActors(host.hostId(), 1);
      assertEquals(1008, agent.awaitClose(WAIT));
      // Well before its 10 s linger timer: the socket stream's completion reaches the actor.
      probe().expectTerminated(actors.get(0), Duration.ofSeconds(5));
    }
  }

  @Test
  void anUnsupportedProtocolVersionClosesWith1008() throws Exception {
    String name = hostName("future");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connect(server.wsUri(), host.agentToken())) {
      agent.send(TestAgent.hello(name).replace("\"protocol_version\":1", "\"protocol_version\":2"));
      assertEquals(1008, agent.awaitClose(WAIT));
    }
  }

  @Test
  void aSecondConnectionOfTheSameHostClosesTheFirstWith4000AndKeepsWorking() throws Exception {
    String name = hostName("twice");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent first = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      List<ActorRef<Object>> actors = connectionActors(host.hostId(), 1);
      try (TestAgent second = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
        assertEquals(4000, first.awaitClose(WAIT));
        probe().expectTerminated(actors.get(0), Duration.ofSeconds(5));

        provesOpen(second);
        Map<String, Object> view = Json.object(server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).body());
        assertEquals(Boolean.TRUE, view.get("online"), "the old connection's end does not take the host offline");
      }
    }
  }

  @Test
  void anAgentThatDropsTheConnectionIsOfflineAtOnce() throws Exception {
    String name = hostName("drop");
    TestServer.Enrolled host = server.enroll(name);
    TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name);
    List<ActorRef<Object>> actors = connectionActors(host.hostId(), 1);
    agent.socket().abort();

    probe().expectTerminated(actors.get(0), Duration.ofSeconds(5));
    Await.until(Duration.ofSeconds(5),
        () -> Json.object(server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).body()).get("online"),
        Boolean.FALSE::equals);
  }

  // ------------------------------------------------------------------ authentication and revocation

  @Test
  void aMissingOrWrongTokenIsRefusedWith401BeforeAnyUpgrade() throws Exception {
    assertEquals(401, handshakeStatus(null));
    assertEquals(401, handshakeStatus("not-a-token"));
    assertEquals(401, handshakeStatus(""));

    String raw = rawUpgrade("Authorization: Bearer wrong-token\r\n");
    assertTrue(raw.startsWith("HTTP/1.1 401"), raw);
    assertTrue(raw.contains("\"error\":\"unauthorized\""), raw);
    assertFalse(raw.toLowerCase().contains("upgrade: websocket"), raw);
    String none = rawUpgrade("");
    assertTrue(none.startsWith("HTTP/1.1 401"), none);
  }

  @Test
  void deletingAHostClosesItsSocketWith1008RevokesItsTokenAndDropsItsMetricRows() throws Exception {
    String name = hostName("doomed");
    TestServer.Enrolled host = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), name)) {
      agent.runJob(UUID.randomUUID(), "backup", "succeeded", T0, T0.plusSeconds(5), 77);
      assertTrue(metrics().contains("host=\"" + name + "\""));

      assertEquals(204, server.admin("DELETE", "/api/v1/hosts/" + host.hostId(), null).statusCode());

      assertEquals(1008, agent.awaitClose(WAIT));
      assertEquals(401, handshakeStatus(host.agentToken()));
      String metrics = metrics();
      assertFalse(metrics.contains("host=\"" + name + "\""), metrics);
      assertEquals(404, server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).statusCode());
      assertEquals(404, server.admin("DELETE", "/api/v1/hosts/" + host.hostId(), null).statusCode());
      assertTrue(server.enroll(name).hostId().length() > 0, "the name is free again");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String hostName(String prefix) {
    return prefix + "-" + HOSTS.incrementAndGet();
  }

  private static java.util.function.Predicate<String> type(String type) {
    return f -> type.equals(Json.object(f).get("type"));
  }

  private static void awaitAck(TestAgent agent, String of, UUID job) throws InterruptedException {
    agent.awaitFrame(f -> {
      Map<String, Object> m = Json.object(f);
      return "ack".equals(m.get("type")) && of.equals(m.get("of")) && job.toString().equals(m.get("job_id"));
    }, WAIT);
  }

  /** A later exchange succeeds: the connection is still open and served. */
  private static void provesOpen(TestAgent agent) throws InterruptedException {
    UUID probe = UUID.randomUUID();
    agent.send(TestAgent.started(probe, "restore", T0));
    awaitAck(agent, "job.started", probe);
    assertFalse(agent.isClosed());
  }

  /** A heartbeat padded with an ignored field to exactly {@code bytes} UTF-8 bytes. */
  private static String paddedHeartbeat(int bytes) {
    String head = "{\"type\":\"heartbeat\",\"pad\":\"";
    String tail = "\"}";
    String s = head + "x".repeat(bytes - head.length() - tail.length()) + tail;
    assertEquals(bytes, s.getBytes(UTF_8).length);
    return s;
  }

  private static String metrics() throws Exception {
    var r = server.get("/metrics", METRICS_TOKEN);
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  private static JobDurations durations() throws Exception {
    return AskPattern.<JobTracker.Command, JobDurations>ask(server.server().started().jobTracker(),
            JobTracker.GetSnapshot::new, WAIT, server.server().system().scheduler())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The status of a WebSocket handshake with {@code token} (null: no Authorization header). */
  private static int handshakeStatus(String token) throws Exception {
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    if (token != null) b.header("Authorization", "Bearer " + token);
    try {
      WebSocket ws = b.buildAsync(server.wsUri(), new WebSocket.Listener() {}).get(10, TimeUnit.SECONDS);
      ws.abort();
      return 101;
    } catch (ExecutionException | CompletionException e) {
      WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
      return h.getResponse().statusCode();
    }
  }

  /** A hand-written upgrade request; returns the whole response head and body. */
  private static String rawUpgrade(String extraHeaders) throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET /api/v1/agents/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders
          + "Connection: close\r\n\r\n").getBytes(UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  private static ActorTestKit kit;

  private static synchronized TestProbe<Object> probe() {
    if (kit == null) kit = ActorTestKit.create(server.server().system());
    return kit.createTestProbe();
  }

  /** The live connection actors of a host (spawned by AgentSocket as /system/agent-{hostId}-{n}). */
  private static List<ActorRef<Object>> connectionActors(String hostId, int expected) throws Exception {
    return Await.until(WAIT, () -> ConnectionActors.of(server, probe(), hostId), l -> l.size() == expected);
  }

  @Test
  void aPlainGetIs401WithoutATokenAnd400WithOne() throws Exception {
    assertEquals(401, server.get("/api/v1/agents/ws", null).statusCode());
    String name = hostName("plain");
    TestServer.Enrolled host = server.enroll(name);
    var r = server.get("/api/v1/agents/ws", host.agentToken());
    assertEquals(400, r.statusCode());
    assertEquals("bad_request", Json.object(r.body()).get("error"));
  }
}
