package io.resticmanager.agents;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.Json;
import io.resticmanager.support.RawWebSocket;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile agents (issue 8, item 3), each authenticated with a real agent token, against one in-process
 * server: oversized and endless messages, a flood of tiny frames, invalid UTF-8, deep nesting, huge
 * numbers, unknown fields and thousands of junk kinds. Each test checks that the hostile connection is
 * answered or closed as the protocol says, that a well-behaved agent next to it is still acked promptly,
 * and where it matters that /metrics gained no series and the heap stayed bounded.
 */
class HostileFramesIT {
  private static final String METRICS_TOKEN = "hostile-metrics-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final int MIB = 1 << 20;
  private static final AtomicInteger HOSTS = new AtomicInteger();

  @TempDir static Path dir;
  private static TestServer server;
  private static ServerApi api;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "", Map.of("RM_METRICS_TOKEN", METRICS_TOKEN));
    api = new ServerApi(server.port(), server.adminToken(), METRICS_TOKEN);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void aTwoMebibyteFrameClosesWith1009WhileAnotherAgentKeepsGettingAcks() throws Exception {
    try (TestAgent big = agent("big"); TestAgent bystander = agent("bystander")) {
      big.socket().sendText(paddedHeartbeat(2 * MIB), true);
      assertEquals(1009, big.awaitClose(WAIT));
      provesOpen(bystander);
    }
  }

  @Test
  void anEndlessFragmentedMessageIsClosedWith1009AtTheCapAndTheSocketIsDropped() throws Exception {
    String name = name("endless");
    TestServer.Enrolled host = server.enroll(name);
    try (RawWebSocket ws = RawWebSocket.open(server.port(), host.agentToken(), 0);
        TestAgent bystander = agent("endless-bystander")) {
      ws.hello(name, WAIT);
      byte[] part = "x".repeat(64 * 1024).getBytes(UTF_8);
      AtomicLong sent = new AtomicLong();
      // A peer that never finishes its message and never answers the close: keeps writing until the
      // server drops the TCP connection (or 64 MiB, which would be a failure).
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = new BufferedOutputStream(ws.socket().getOutputStream(), 1 << 16);
          out.write(RawWebSocket.encode(false, RawWebSocket.TEXT, "{\"type\":\"heartbeat\",\"pad\":\"".getBytes(UTF_8)));
          while (sent.addAndGet(part.length) < 64L * MIB) {
            out.write(RawWebSocket.encode(false, RawWebSocket.CONTINUATION, part));
          }
          out.flush();
        } catch (IOException expected) {
          // the server dropped the connection
        }
      });
      assertEquals(1009, ws.awaitClose(WAIT));
      assertTrue(ws.awaitEndOfStream(WAIT), "the server ends TCP although the peer never answers the close");
      writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertTrue(sent.get() < 64L * MIB, "stopped by the server after " + sent.get() + " bytes");
      provesOpen(bystander);
    }
  }

  @Test
  void tenThousandTinyFramesASecondFromOneAgentLeaveAnotherAgentsAcksTimely() throws Exception {
    String name = name("flood");
    TestServer.Enrolled host = server.enroll(name);
    try (RawWebSocket flood = RawWebSocket.open(server.port(), host.agentToken(), 0);
        TestAgent victim = agent("victim")) {
      flood.hello(name, WAIT);
      byte[] tiny = RawWebSocket.encode(true, RawWebSocket.TEXT, "{\"type\":\"heartbeat\"}".getBytes(UTF_8));
      long floodNanos = Duration.ofSeconds(3).toNanos();
      AtomicLong frames = new AtomicLong();
      CompletableFuture<Void> flooder = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = new BufferedOutputStream(flood.socket().getOutputStream(), 1 << 14);
          long start = System.nanoTime();
          long elapsed;
          while ((elapsed = System.nanoTime() - start) < floodNanos) {
            // 10,000 a second: catch up to elapsed time in batches, flushing each batch.
            long due = elapsed * 10_000 / 1_000_000_000L;
            while (frames.get() < due) {
              out.write(tiny);
              frames.incrementAndGet();
            }
            out.flush();
            java.util.concurrent.locks.LockSupport.parkNanos(500_000);
          }
        } catch (IOException limited) {
          // the server may close a flooding agent: "absorbed or limited" both pass
        }
      });
      List<Long> latencies = new ArrayList<>();
      while (!flooder.isDone()) {
        UUID job = UUID.randomUUID();
        long t = System.nanoTime();
        victim.send(TestAgent.started(job, "backup", T0));
        awaitAck(victim, job);
        latencies.add((System.nanoTime() - t) / 1_000_000);
      }
      flooder.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      long max = latencies.stream().mapToLong(Long::longValue).max().orElseThrow();
      List<Long> sorted = latencies.stream().sorted().toList();
      System.out.printf("HostileFramesIT: %d tiny frames in 3 s; %d victim acks, median %d ms, p95 %d ms, slowest %d ms%n",
          frames.get(), latencies.size(), sorted.get(sorted.size() / 2), sorted.get(sorted.size() * 95 / 100), max);
      assertTrue(frames.get() >= 25_000, "the flood reached " + frames.get() + " frames");
      assertTrue(latencies.size() >= 10, "the victim was served during the flood: " + latencies.size() + " acks");
      assertTrue(max < 2_000, "the victim's slowest ack took " + max + " ms");
      provesOpen(victim);
    }
  }

  @Test
  void invalidUtf8InATextFrameClosesThatConnectionWith1007Only() throws Exception {
    String name = name("badutf8");
    TestServer.Enrolled host = server.enroll(name);
    try (RawWebSocket ws = RawWebSocket.open(server.port(), host.agentToken(), 0);
        TestAgent bystander = agent("utf8-bystander")) {
      ws.hello(name, WAIT);
      byte[] bad = {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
      ws.sendFrame(true, RawWebSocket.TEXT, bad);
      assertEquals(1007, ws.awaitClose(WAIT), "RFC 6455 §8.1: invalid UTF-8 fails the connection");
      ws.sendClose(1007);
      assertTrue(ws.awaitEndOfStream(WAIT));
      Await.until(WAIT, () -> Json.object(server.admin("GET", "/api/v1/hosts/" + host.hostId(), null).body())
          .get("online"), Boolean.FALSE::equals);
      provesOpen(bystander);
    }
  }

  @Test
  void deeplyNestedJsonIsBadJsonAndTheConnectionStaysOpen() throws Exception {
    try (TestAgent agent = agent("nested")) {
      int depth = 400_000;
      agent.send("{\"type\":\"heartbeat\",\"x\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
      assertEquals("bad_json", Json.object(agent.awaitFrame(type("error"), WAIT)).get("code"));
      agent.send("{\"type\":\"heartbeat\",\"x\":" + "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000) + "}");
      assertEquals("bad_json", Json.object(agent.awaitFrame(type("error"), WAIT)).get("code"));
      provesOpen(agent);
    }
  }

  @Test
  void hugeNumbersAreRefusedAsErrorsAndRecordNothing() throws Exception {
    try (TestAgent agent = agent("huge")) {
      UUID job = UUID.randomUUID();
      agent.send(TestAgent.started(job, "backup", T0));
      awaitAck(agent, job);
      long before = ServerApi.histogramCount(api.metrics());
      String finish = "{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"succeeded\","
          + "\"finished_at\":\"" + T0.plusSeconds(5) + "\",\"exit_code\":";
      List<String> numbers = List.of("1e999999999", "-1e-999999999", "9".repeat(400_000), "92233720368547758070",
          "1" + "0".repeat(99), "1.5", "NaN", "Infinity");
      for (String n : numbers) {
        agent.send(finish + n + "}");
        Map<String, Object> error = Json.object(agent.awaitFrame(type("error"), WAIT));
        assertTrue(Set.of("bad_json", "invalid_field").contains(error.get("code")), n + ": " + error);
      }
      agent.send(TestAgent.finished(job, "succeeded", T0.plusSeconds(5), 0, 1).replace("\"data_added\":1",
          "\"data_added\":1e400"));
      assertEquals("invalid_field", Json.object(agent.awaitFrame(type("error"), WAIT)).get("code"));
      assertEquals(before, ServerApi.histogramCount(api.metrics()), "no refused finish was recorded");
      provesOpen(agent);
    }
  }

  @Test
  void unknownFieldsAreIgnoredAndTheFrameIsTaken() throws Exception {
    try (TestAgent agent = agent("extra")) {
      UUID job = UUID.randomUUID();
      agent.send(TestAgent.started(job, "check", T0).replace("{\"type\"",
          "{\"future_field\":{\"nested\":[1,2,{\"x\":null}]},\"type\"").replace("}", ",\"also\":\"" + "y".repeat(10_000)
          + "\"}"));
      awaitAck(agent, job);
      agent.send(TestAgent.finished(job, "succeeded", T0.plusSeconds(3), 0, 5)
          .replace("\"summary\":{", "\"summary\":{\"restic_new_field\":[true],"));
      agent.awaitFrame(f -> f.contains("\"ack\"") && f.contains("job.finished") && f.contains(job.toString()), WAIT);
    }
  }

  @Test
  void thousandsOfJunkKindsStatusesAndTypesAddNoSeriesAndKeepTheHeapBounded() throws Exception {
    try (TestAgent agent = agent("junk")) {
      provesOpen(agent);
      Set<String> series = api.metrics().seriesKeys();
      long heapBefore = usedHeapAfterGc();
      int each = 2_000;
      UUID job = UUID.randomUUID();
      int errors = 0;
      for (int i = 0; i < each; i++) {
        String junk = "junk-" + i + "-" + UUID.randomUUID();
        agent.socket().sendText(TestAgent.started(UUID.randomUUID(), junk, T0), true).join();
        agent.socket().sendText(TestAgent.finished(job, junk, T0, 1, 0), true).join();
        agent.socket().sendText("{\"type\":\"" + junk + "\"}", true).join();
        // Read the answers as a real agent would: one that never reads them is dropped (DeadPeersIT).
        while (errors < 3 * (i + 1) - 150) {
          agent.awaitFrame(type("error"), WAIT);
          errors++;
        }
      }
      while (errors < 3 * each) {
        agent.awaitFrame(type("error"), WAIT);
        errors++;
      }
      provesOpen(agent);
      Exposition after = api.metrics();
      assertEquals(series, after.seriesKeys(), "no new series from junk");
      assertFalse(after.labelValues("kind").stream().anyMatch(k -> k.startsWith("junk")));
      long grown = usedHeapAfterGc() - heapBefore;
      assertTrue(grown < 64L * MIB, "the heap grew by " + grown / MIB + " MiB over " + 3 * each + " junk frames");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String name(String prefix) {
    return prefix + "-" + HOSTS.incrementAndGet();
  }

  private static TestAgent agent(String prefix) throws Exception {
    String name = name(prefix);
    return TestAgent.connectAndHello(server.wsUri(), server.enroll(name).agentToken(), name);
  }

  private static Predicate<String> type(String type) {
    return f -> type.equals(Json.object(f).get("type"));
  }

  private static void awaitAck(TestAgent agent, UUID job) throws InterruptedException {
    agent.awaitFrame(f -> f.contains("\"ack\"") && f.contains(job.toString()), WAIT);
  }

  /** A later exchange succeeds promptly: the connection is open and served. */
  private static void provesOpen(TestAgent agent) throws InterruptedException {
    UUID probe = UUID.randomUUID();
    agent.send(TestAgent.started(probe, "restore", T0));
    awaitAck(agent, probe);
    assertFalse(agent.isClosed());
  }

  private static String paddedHeartbeat(int bytes) {
    String head = "{\"type\":\"heartbeat\",\"pad\":\"";
    String tail = "\"}";
    return head + "x".repeat(bytes - head.length() - tail.length()) + tail;
  }

  /** Heap in use after a full collection, in bytes; the server shares this JVM. */
  static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    memory.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }
}
