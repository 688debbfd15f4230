package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.support.Await;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestCerts.Alg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent ({@link AgentMain#runUntil}) against {@link FakeAgentServer} over HTTPS and WSS:
 * trusted through {@code RM_SERVER_CA_FILE}, and refused (logged, retried, never a token sent) when the
 * server's certificate comes from another CA or names another host.
 */
class AgentTlsIT {
  @TempDir static Path certs;
  /** The CA the agent is told to trust. */
  private static TestCerts ca;
  private static SSLContext trusted;
  private static SSLContext otherCa;
  private static SSLContext otherName;

  @TempDir Path dir;
  private FakeAgentServer server;

  @BeforeAll
  static void makeCertificates() throws Exception {
    ca = TestCerts.authority(certs, "agent-ca");
    trusted = FakeAgentServer.tls(ca.server(Alg.EC), Alg.EC);
    otherCa = FakeAgentServer.tls(TestCerts.authority(certs, "stranger").server(Alg.EC), Alg.EC);
    otherName = FakeAgentServer.tls(ca.issue(Alg.EC, "elsewhere.test", List.of("dns:elsewhere.test"), null), Alg.EC);
  }

  @AfterEach
  void stopServer() {
    if (server != null) server.close();
  }

  /** Starts the server with {@code tls} and returns the agent's environment for it. */
  private Map<String, String> serve(SSLContext tls) throws Exception {
    server = new FakeAgentServer("earned-agent-token", tls);
    Map<String, String> env = new HashMap<>();
    env.put("RM_SERVER_URL", "https://127.0.0.1:" + server.start(0));
    env.put("RM_SERVER_CA_FILE", ca.caCert().toString());
    env.put("RM_ENROLLMENT_TOKEN", "one-time-enrollment");
    env.put("RM_HOSTNAME", "web-01");
    env.put("RM_DATA_DIR", dir.resolve("data").toString());
    return env;
  }

  private CompletableFuture<Integer> run(Map<String, String> env, CountDownLatch stop) throws Exception {
    Path conf = dir.resolve("agent.conf");
    Files.writeString(conf, "restic-manager.agent { restic = \"" + FakeRestic.write(dir) + "\", "
        + "schedules.backup.interval = 0s, schedules.check.interval = 0s, "
        + "reconnect { min-backoff = 20ms, max-backoff = 100ms } }\n");
    AgentSettings s = AgentSettings.load(Optional.of(conf), env);
    return CompletableFuture.supplyAsync(() -> AgentMain.runUntil(s, env, stop));
  }

  @Test
  void theAgentEnrollsAndSaysHelloOverHttpsAndWssTrustingTheCaFile() throws Exception {
    Map<String, String> env = serve(trusted);
    CountDownLatch stop = new CountDownLatch(1);
    CompletableFuture<Integer> exit = run(env, stop);

    assertNotNull(server.enrollRequests.poll(20, TimeUnit.SECONDS), "enrollment over https");
    Hello hello = assertInstanceOf(Hello.class, server.accept().next(), "hello over wss");
    assertEquals("web-01", hello.hostname());
    assertEquals("earned-agent-token", Files.readString(dir.resolve("data/agent-token")).trim());

    stop.countDown();
    assertEquals(0, exit.get(60, TimeUnit.SECONDS));
  }

  @Test
  void aServerCertificateFromAnotherCaIsRefusedLoggedAndRetried() throws Exception {
    assertRefusedAndRetried(otherCa, "TLS: the server's certificate is not trusted");
  }

  @Test
  void aServerCertificateForAnotherHostNameIsRefusedLoggedAndRetried() throws Exception {
    assertRefusedAndRetried(otherName, "TLS: the server's certificate does not match the host name [127.0.0.1]");
  }

  /**
   * First without an agent token (enrollment is refused), then with one (the WebSocket is refused): each
   * time the agent logs {@code warning} on every attempt, keeps running and retrying, and the server
   * never sees a request or a frame.
   */
  private void assertRefusedAndRetried(SSLContext serverTls, String warning) throws Exception {
    Map<String, String> env = serve(serverTls);
    for (Class<?> part : List.of(Enrollment.class, AgentClient.class)) {
      if (part == AgentClient.class) Enrollment.store(dir.resolve("data/agent-token"), "earned-agent-token");
      CountDownLatch stop = new CountDownLatch(1);
      try (LogLines log = new LogLines(part)) {
        CompletableFuture<Integer> exit = run(env, stop);
        Await.until(Duration.ofSeconds(20), () -> log.containing(warning), lines -> lines.size() >= 3);
        String line = log.containing(warning).get(0);
        assertTrue(line.startsWith("WARN ") && line.contains("://127.0.0.1:" + server.port() + "/api/v1/agents/"),
            line);
        assertFalse(exit.isDone(), "the agent keeps running");
        stop.countDown();
        assertEquals(0, exit.get(60, TimeUnit.SECONDS));
      }
      assertTrue(server.enrollRequests.isEmpty(), "no enrollment request reached the server");
      assertNull(server.tryAccept(), "no WebSocket reached the server");
    }
  }
}
