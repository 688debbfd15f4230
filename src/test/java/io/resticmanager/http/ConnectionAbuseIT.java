package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.RawWebSocket;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connection abuse (issue 8, item 4), on in-process servers: a thousand TCP sockets that never send a
 * request and a few byte-by-byte handshakes beside a real agent; connections beyond
 * {@code restic-manager.http.max-connections}; and idle sockets that never upgrade, which the server
 * must close on its own ({@code pekko.http.server.idle-timeout}) without cutting idle agent WebSockets.
 */
class ConnectionAbuseIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Instant T0 = Instant.parse("2026-05-01T00:00:00Z");

  @TempDir Path dir;

  @Test
  void aThousandSilentSocketsAndSlowHandshakesDoNotStarveARealAgent() throws Exception {
    List<Socket> silent = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<CompletableFuture<Void>> slow = new ArrayList<>();
    TestServer server = TestServer.start(dir);
    try {
      TestServer.Enrolled host = server.enroll("real-agent");
      TestServer.Enrolled slowHost = server.enroll("slow-handshake");
      for (int i = 0; i < 1_000; i++) silent.add(connect(server.port()));
      for (int i = 0; i < 3; i++) {
        Socket s = connect(server.port());
        silent.add(s);
        byte[] request = RawWebSocket.upgradeRequest(slowHost.agentToken()).getBytes(UTF_8);
        slow.add(CompletableFuture.runAsync(() -> dribble(s, request, stop)));
      }

      long t = System.nanoTime();
      try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), "real-agent")) {
        agent.runJob(UUID.randomUUID(), "backup", "succeeded", T0, T0.plusSeconds(30), 1);
      }
      Duration took = Duration.ofNanos(System.nanoTime() - t);
      assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "connect, hello and two acks took " + took);
      assertEquals(200, server.admin("GET", "/api/v1/hosts", null).statusCode());
      assertFalse(slow.stream().anyMatch(CompletableFuture::isDone), "the slow handshakes were still going");
    } finally {
      // Before the server stops: its graceful stop would wait for these connections.
      stop.set(true);
      for (Socket s : silent) s.close();
      for (CompletableFuture<Void> f : slow) f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      server.close();
    }
  }

  @Test
  void connectionsBeyondTheMaximumWaitUnservedAndAreServedOnceTheOthersGo() throws Exception {
    int max = 5;
    List<Socket> held = new ArrayList<>();
    try (TestServer server = TestServer.start(dir, "restic-manager.http.max-connections = " + max + "\n", Map.of())) {
      for (int i = 0; i < max; i++) held.add(connect(server.port()));
      try (Socket extra = connect(server.port())) {
        extra.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8));
        // Not served while every slot is taken: the connection waits in the accept backlog, unanswered
        // rather than half-answered, and costs the server nothing.
        extra.setSoTimeout(1_000);
        assertThrows(SocketTimeoutException.class, () -> extra.getInputStream().read());

        for (Socket s : held) s.close();
        held.clear();
        extra.setSoTimeout((int) WAIT.toMillis());
        String answer = readHead(extra.getInputStream());
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      }
      TestServer.Enrolled host = server.enroll("after-the-crowd");
      try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), "after-the-crowd")) {
        agent.runJob(UUID.randomUUID(), "check", "succeeded", T0, T0.plusSeconds(1), 0);
      }
    } finally {
      for (Socket s : held) s.close();
    }
  }

  @Test
  void theServerClosesASocketThatNeverSendsARequestButKeepsAnIdleAgentWebSocketOpen() throws Exception {
    // The shipped idle timeout, shortened here with the keep-alive below it, as reference.conf keeps them.
    try (TestServer server = TestServer.start(dir, """
        pekko.http.server.idle-timeout = 1s
        pekko.http.server.websocket.periodic-keep-alive-max-idle = 300ms
        """, Map.of())) {
      TestServer.Enrolled host = server.enroll("quiet-agent");
      try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), "quiet-agent");
          Socket silent = connect(server.port())) {
        silent.setSoTimeout((int) WAIT.toMillis());
        long t = System.nanoTime();
        assertTrue(endOfStream(silent.getInputStream()), "closed by the server");
        Duration took = Duration.ofNanos(System.nanoTime() - t);
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "closed after " + took);

        // The agent sent nothing for as long, yet the server's pings kept its WebSocket open.
        assertFalse(agent.isClosed());
        agent.runJob(UUID.randomUUID(), "forget", "succeeded", T0, T0.plusSeconds(2), 0);
      }
    }
  }

  @Test
  void theShippedIdleTimeoutClosesDeadSocketsWithinHalfAMinuteAndStaysAboveTheWebSocketKeepAlive()
      throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      var config = server.server().system().settings().config();
      Duration idle = config.getDuration("pekko.http.server.idle-timeout");
      Duration keepAlive = config.getDuration("pekko.http.server.websocket.periodic-keep-alive-max-idle");
      assertTrue(idle.compareTo(Duration.ofSeconds(30)) <= 0, "idle-timeout " + idle);
      assertTrue(idle.compareTo(keepAlive.plusSeconds(5)) >= 0,
          "idle-timeout " + idle + " leaves room for the keep-alive ping every " + keepAlive);
      assertTrue(config.getDuration("pekko.http.server.request-timeout").compareTo(idle) <= 0);
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    return s;
  }

  /** Writes {@code request} one byte every 100 ms until done or told to stop (a slowloris handshake). */
  private static void dribble(Socket s, byte[] request, AtomicBoolean stop) {
    try {
      OutputStream out = s.getOutputStream();
      for (int i = 0; i < request.length && !stop.get(); i++) {
        out.write(request[i]);
        out.flush();
        LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
      }
    } catch (IOException closed) {
      // closed by the test or the server
    }
  }

  private static boolean endOfStream(InputStream in) throws IOException {
    try {
      while (in.read() >= 0) {
        // drain whatever the server says before it closes
      }
      return true;
    } catch (SocketException reset) {
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      sb.append((char) b);
      if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) break;
    }
    return sb.toString();
  }
}
