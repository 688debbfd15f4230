package io.resticmanager.agents;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.ConnectionActors;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.Json;
import io.resticmanager.support.RawWebSocket;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead peers (issue 8, item 5): agents whose TCP connection stays open while they stop taking part, on a
 * server whose offline deadline is shortened to 2 s. A raw socket that completes the upgrade and hello,
 * then neither reads nor sends, and one that keeps sending but never reads while the server has answers
 * to send. Each must be marked offline within the deadline (plus the fleet's check interval), its
 * connection actor must stop, and {@code restic_manager_agents_connected} must drop back.
 */
class DeadPeersIT {
  private static final String METRICS_TOKEN = "dead-peers-metrics-token-0123456789";
  private static final Duration OFFLINE_AFTER = Duration.ofSeconds(2);
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger HOSTS = new AtomicInteger();

  @TempDir static Path dir;
  private static TestServer server;
  private static ServerApi api;
  private static ActorTestKit kit;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, """
        restic-manager.agents.offline-after = 2s
        restic-manager.agents.heartbeat-interval = 500ms
        # A small send buffer, so that a peer that stops reading blocks the server's writes quickly.
        pekko.http.server.socket-options.so-send-buffer-size = 4096
        """, Map.of("RM_METRICS_TOKEN", METRICS_TOKEN));
    api = new ServerApi(server.port(), server.adminToken(), METRICS_TOKEN);
    kit = ActorTestKit.create(server.server().system());
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void anAgentSilentWithItsTcpOpenIsOfflineWithinTheDeadlineAndItsConnectionIsReleased() throws Exception {
    String name = "silent-" + HOSTS.incrementAndGet();
    TestServer.Enrolled host = server.enroll(name);
    double connectedBefore = agentsConnected();
    try (RawWebSocket ws = RawWebSocket.open(server.port(), host.agentToken(), 0)) {
      ws.hello(name, WAIT);
      Await.until(WAIT, () -> agentsConnected() == connectedBefore + 1);
      ActorRef<Object> connection = connectionActor(host.hostId());
      long silentSince = System.nanoTime();

      // From here on the peer neither reads nor sends; its socket stays open.
      Await.until(WAIT, () -> online(host.hostId()), Boolean.FALSE::equals);
      Duration tookToOffline = Duration.ofNanos(System.nanoTime() - silentSince);
      assertTrue(tookToOffline.compareTo(OFFLINE_AFTER.plusSeconds(3)) < 0, "offline after " + tookToOffline);
      kit.createTestProbe().expectTerminated(connection, WAIT);
      Await.until(WAIT, () -> agentsConnected() == connectedBefore);

      // What the peer finds when it looks again: a going-away close, then, since it never answers the
      // close, a reset: an orderly end would leave the server's TCP layer waiting to flush to a peer that
      // may never read again.
      assertEquals(1001, ws.awaitClose(WAIT));
      assertTrue(ws.endsWithReset(WAIT), "a close the peer never answers ends in a reset");
    }
  }

  @Test
  void anAgentThatKeepsSendingButNeverReadsIsDroppedAndReleased() throws Exception {
    String name = "deaf-" + HOSTS.incrementAndGet();
    TestServer.Enrolled host = server.enroll(name);
    double connectedBefore = agentsConnected();
    // A small receive buffer, so the server's answers pile up quickly once nobody reads them.
    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    String other = "deaf-bystander-" + HOSTS.incrementAndGet();
    TestServer.Enrolled bystanderHost = server.enroll(other);
    try (RawWebSocket ws = RawWebSocket.open(server.port(), host.agentToken(), 4096);
        TestAgent bystander = TestAgent.connectAndHello(server.wsUri(), bystanderHost.agentToken(), other)) {
      ws.sendText(TestAgent.hello(name));
      Await.until(WAIT, () -> online(host.hostId()), Boolean.TRUE::equals);
      ActorRef<Object> connection = connectionActor(host.hostId());
      heartbeats.scheduleAtFixedRate(() -> bystander.send("{\"type\":\"heartbeat\"}"), 0, 300, TimeUnit.MILLISECONDS);

      // Every one of these frames earns an error answer (an unknown type, echoed back) that is never read.
      byte[] junk = RawWebSocket.encode(true, RawWebSocket.TEXT,
          ("{\"type\":\"" + "x".repeat(64) + "\"}").getBytes(UTF_8));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong sent = new AtomicLong();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = new BufferedOutputStream(ws.socket().getOutputStream(), 1 << 14);
          long end = System.nanoTime() + WAIT.toNanos();
          while (!stop.get() && System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) out.write(junk);
            out.flush();
            sent.addAndGet(100);
          }
        } catch (IOException dropped) {
          // the server has dropped this peer
        }
      });
      try {
        Await.until(WAIT, () -> online(host.hostId()), Boolean.FALSE::equals);
        kit.createTestProbe().expectTerminated(connection, WAIT);
        Await.until(WAIT, () -> agentsConnected() == connectedBefore + 1);
      } finally {
        stop.set(true);
        heartbeats.shutdownNow();
      }
      writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertTrue(sent.get() < 10_000_000, "dropped after " + sent.get() + " frames");

      UUID job = UUID.randomUUID();
      bystander.send(TestAgent.started(job, "backup", Instant.now()));
      bystander.awaitFrame(f -> f.contains("\"ack\"") && f.contains(job.toString()), WAIT);
    }
  }

  @Test
  void anAgentThatStopsReadingThenFallsSilentIsOfflineAndItsSocketIsResetAfterTheLingerTime() throws Exception {
    String name = "deaf-silent-" + HOSTS.incrementAndGet();
    TestServer.Enrolled host = server.enroll(name);
    try (RawWebSocket ws = RawWebSocket.open(server.port(), host.agentToken(), 4096)) {
      ws.sendText(TestAgent.hello(name));
      Await.until(WAIT, () -> online(host.hostId()), Boolean.TRUE::equals);
      ActorRef<Object> connection = connectionActor(host.hostId());
      // More answers than the socket buffers hold, fewer than the outbound queue takes: the close frame
      // the silence deadline sends will be stuck behind them.
      byte[] junk = RawWebSocket.encode(true, RawWebSocket.TEXT,
          ("{\"type\":\"" + "x".repeat(64) + "\"}").getBytes(UTF_8));
      OutputStream out = new BufferedOutputStream(ws.socket().getOutputStream(), 1 << 14);
      for (int i = 0; i < 300; i++) out.write(junk);
      out.flush();

      Await.until(WAIT, () -> online(host.hostId()), Boolean.FALSE::equals);
      kit.createTestProbe().expectTerminated(connection, WAIT);
      // Reset, not left to the HTTP idle timeout: writing soon fails, without ever reading. (A server that
      // merely stopped reading would block the writes instead; the deadline turns that into a failure.)
      CompletableFuture<Boolean> reset = CompletableFuture.supplyAsync(() -> {
        try {
          while (true) {
            out.write(junk);
            out.flush();
            LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
          }
        } catch (IOException e) {
          return true;
        }
      });
      assertTrue(reset.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }
  }

  private static Object online(String hostId) throws Exception {
    return Json.object(api.admin("/api/v1/hosts/" + hostId)).get("online");
  }

  private static double agentsConnected() throws Exception {
    Exposition e = api.metrics();
    return e.one("restic_manager_agents_connected", Map.of()).number();
  }

  /** The host's one live connection actor (spawned by AgentSocket as /system/agent-{hostId}-{n}). */
  private static ActorRef<Object> connectionActor(String hostId) throws Exception {
    return Await.until(WAIT, () -> ConnectionActors.of(server, kit.createTestProbe(), hostId), l -> l.size() == 1).get(0);
  }
}
