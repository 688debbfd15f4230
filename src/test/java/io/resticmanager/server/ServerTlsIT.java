package io.resticmanager.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.resticmanager.support.Await;
import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.LogCapture;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listener over TLS with real certificates: JDK clients and an agent over wss, what is refused
 * (another CA, old protocols, weak suites, plain HTTP), a renewal picked up while an agent stays
 * connected, and an expired pair stopping {@code serve} with exit code 2.
 */
class ServerTlsIT {
  @TempDir static Path dir;

  private static TestCerts ca;
  private static TestCerts.Pair a;
  private static TestCerts.Pair b;
  private static Path otherCa;
  private static TestServer server;
  private static List<String> startLog;

  @BeforeAll
  static void startServerWithPairA() throws Exception {
    Path certs = dir.resolve("certs");
    ca = TestCerts.authority(certs, "main");
    otherCa = TestCerts.authority(certs, "other").caCert();
    a = ca.server(TestCerts.Alg.RSA);
    b = ca.server(TestCerts.Alg.EC);
    try (LogCapture logs = LogCapture.of(Guardian.class)) {
      server = TestServer.start(dir.resolve("shared"), "", tls(a.cert(), a.key()));
      startLog = logs.messages(Level.INFO);
    }
  }

  @AfterAll
  static void stopServer() {
    if (server != null) server.close();
  }

  private static Map<String, String> tls(Path cert, Path key) {
    return Map.of("RM_TLS_CERT_FILE", cert.toString(), "RM_TLS_KEY_FILE", key.toString());
  }

  private static HttpClient client(SSLContext trust, SSLParameters params) {
    HttpClient.Builder b = HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(5));
    return (params == null ? b : b.sslParameters(params)).build();
  }

  private static HttpResponse<String> healthz(HttpClient client, int port) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/healthz"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static SSLSession session(HttpResponse<?> r) {
    return r.sslSession().orElseThrow(() -> new AssertionError("no TLS session"));
  }

  /** The certificate a brand-new client connection is given. */
  private static X509Certificate servedTo(int port) throws Exception {
    return (X509Certificate) session(healthz(client(TestCerts.trusting(ca.caCert()), null), port))
        .getPeerCertificates()[0];
  }

  @Test
  void healthAndTheAdminApiAnswerOverHttps() throws Exception {
    HttpResponse<String> health = server.get("/healthz", null);

    assertEquals(200, health.statusCode());
    assertEquals("ok", health.body());
    assertEquals("TLSv1.3", session(health).getProtocol());
    assertEquals(200, server.admin("GET", "/api/v1/hosts", null).statusCode());
    assertEquals(401, server.get("/api/v1/hosts", null).statusCode());
    assertTrue(startLog.stream().anyMatch(m -> m.startsWith("Listening on [https://127.0.0.1:" + server.port() + "]")),
        startLog.toString());
  }

  @Test
  void anAgentSaysHelloRunsAJobAndGetsItsAcksOverWss() throws Exception {
    TestServer.Enrolled host = server.enroll("tls-agent");
    assertTrue(server.wsUri().toString().startsWith("wss://"), server.wsUri().toString());

    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), host.agentToken(), "tls-agent",
        server.api().tls())) {
      Instant start = Instant.now().minusSeconds(5);
      agent.runJob(UUID.randomUUID(), "backup", "succeeded", start, start.plusSeconds(3), 1024);

      assertFalse(agent.isClosed());
    }
  }

  @Test
  void aClientTrustingAnotherAuthorityIsRefused() {
    assertThrows(SSLHandshakeException.class, () -> healthz(client(TestCerts.trusting(otherCa), null), server.port()));
  }

  @Test
  void tls12IsSpokenWithAForwardSecretAeadSuiteOnly() throws Exception {
    SSLParameters tls12 = new SSLParameters();
    tls12.setProtocols(new String[] {"TLSv1.2"});
    SSLParameters weakSuites = new SSLParameters();
    weakSuites.setProtocols(new String[] {"TLSv1.2"});
    // Both enabled in a JDK 17 client by default: CBC, and RSA key exchange without forward secrecy.
    weakSuites.setCipherSuites(new String[] {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"});
    SSLContext trust = TestCerts.trusting(ca.caCert());

    SSLSession session = session(healthz(client(trust, tls12), server.port()));

    assertEquals("TLSv1.2", session.getProtocol());
    assertTrue(session.getCipherSuite().startsWith("TLS_ECDHE_RSA_WITH_AES_") && session.getCipherSuite().contains("_GCM_"),
        session.getCipherSuite());
    assertThrows(SSLHandshakeException.class, () -> healthz(client(trust, weakSuites), server.port()));
  }

  /**
   * The JDK's own client will not offer TLS 1.1 (its security properties disable it), so the test sends
   * a TLS 1.1 ClientHello by hand and reads the server's answer: a fatal protocol_version alert.
   */
  @Test
  void aClientOfferingOnlyTls11GetsAProtocolVersionAlert() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(tls11ClientHello());
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] header = new byte[5];
      in.readFully(header);
      byte[] alert = new byte[2];
      in.readFully(alert);

      assertEquals(21, header[0], "an alert record, not a ServerHello");
      assertEquals(2, alert[0], "fatal");
      assertEquals(70, alert[1], "protocol_version");
    }
  }

  /** A ClientHello (RFC 4346 §7.4.1.2) for TLS 1.1 with two CBC suites and no extensions. */
  private static byte[] tls11ClientHello() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    ByteBuffer body = ByteBuffer.allocate(2 + 32 + 1 + 2 + 4 + 2);
    body.put((byte) 3).put((byte) 2).put(random).put((byte) 0) // version 3.2 = TLS 1.1, random, no session id
        .putShort((short) 4).putShort((short) 0xC013).putShort((short) 0x002F) // ECDHE_RSA / RSA with AES_128_CBC_SHA
        .put((byte) 1).put((byte) 0); // compression: null only
    int n = body.position();
    ByteBuffer record = ByteBuffer.allocate(5 + 4 + n);
    record.put((byte) 22).put((byte) 3).put((byte) 2).putShort((short) (4 + n)) // handshake record, TLS 1.1
        .put((byte) 1).put((byte) 0).putShort((short) n) // client_hello, 24-bit length
        .put(body.array(), 0, n);
    return record.array();
  }

  @Test
  void plainHttpToTheTlsPortEndsTheConnectionInsteadOfHanging() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      s.setSoTimeout(5_000); // a hang fails the read with SocketTimeoutException
      s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(US_ASCII));
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      try {
        s.getInputStream().transferTo(got);
      } catch (SocketException reset) {
        // a reset ends it as well
      }

      assertFalse(got.toString(US_ASCII).startsWith("HTTP/1.1 200"), got.toString(US_ASCII));
    }
    assertEquals(200, server.get("/healthz", null).statusCode(), "the server carries on");
  }

  /**
   * Pair A, then B through a swapped directory symlink (how a secret mount or a deploy script renews),
   * then a key of no certificate written over B's through a temporary file and an atomic move.
   */
  @Test
  void aRenewalReachesNewConnectionsWhileAConnectedAgentStaysAndABadOneIsRefused() throws Exception {
    Path rotating = dir.resolve("rotating");
    Path live = rotating.resolve("live");
    Path pairA = copyPair(a, rotating.resolve("pair-a"));
    Path pairB = copyPair(b, rotating.resolve("pair-b"));
    Files.createSymbolicLink(live, pairA);
    try (LogCapture logs = LogCapture.of(ServerTls.class);
        TestServer s = TestServer.start(rotating.resolve("data"), "restic-manager.http.tls.reload-interval = 100ms\n",
            tls(live.resolve("cert.pem"), live.resolve("key.pem")))) {
      TestServer.Enrolled host = s.enroll("renewal");
      try (TestAgent agent = TestAgent.connectAndHello(s.wsUri(), host.agentToken(), "renewal", s.api().tls())) {
        Instant start = Instant.now().minusSeconds(60);
        agent.runJob(UUID.randomUUID(), "backup", "succeeded", start, start.plusSeconds(1), 1);
        assertEquals(TestCerts.leaf(a.cert()), servedTo(s.port()));

        Path link = rotating.resolve("live.tmp");
        Files.createSymbolicLink(link, pairB);
        Files.move(link, live, StandardCopyOption.ATOMIC_MOVE);

        Await.until(Duration.ofSeconds(20), () -> servedTo(s.port()), TestCerts.leaf(b.cert())::equals);
        agent.runJob(UUID.randomUUID(), "check", "succeeded", start.plusSeconds(10), start.plusSeconds(20), 0);
        assertFalse(agent.isClosed(), "the agent connected before the renewal is still connected");
        assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("new connections get the certificate")),
            logs.messages(Level.INFO).toString());

        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        Path tmp = Files.writeString(pairB.resolve("key.pem.tmp"), "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(ec.generateKeyPair().getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n");
        Files.move(tmp, pairB.resolve("key.pem"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        List<String> errors = Await.until(Duration.ofSeconds(20), () -> logs.messages(Level.ERROR), e -> !e.isEmpty());
        assertTrue(errors.get(0).contains("[" + live.resolve("key.pem") + "] the key does not belong to the certificate"),
            errors.get(0));
        assertEquals(TestCerts.leaf(b.cert()), servedTo(s.port()), "new connections still get B");
        agent.runJob(UUID.randomUUID(), "backup", "succeeded", start.plusSeconds(30), start.plusSeconds(40), 2);
      }
    }
  }

  private static Path copyPair(TestCerts.Pair pair, Path to) throws IOException {
    Files.createDirectories(to);
    Files.copy(pair.cert(), to.resolve("cert.pem"));
    Files.copy(pair.key(), to.resolve("key.pem"));
    return to;
  }

  @Test
  void anExpiredPairStopsServeWithExitCodeTwoAndOneLineNamingTheVariableAndTheFile() throws Exception {
    TestCerts.Pair expired = ca.expired(TestCerts.Alg.EC);
    Map<String, String> env = new HashMap<>(tls(expired.cert(), expired.key()));
    env.put("RM_DATA_DIR", dir.resolve("expired-data").toString());

    try (ChildProcess p = ChildProcess.start(dir, env, ChildProcess.FAST_START, "serve")) {
      assertEquals(2, p.waitFor(Duration.ofSeconds(60)));
      List<String> lines = p.outputText().lines().filter(l -> !l.isBlank()).toList();

      assertEquals(1, lines.size(), p.outputText());
      assertTrue(lines.get(0).contains("RM_TLS_CERT_FILE") && lines.get(0).contains(expired.cert().toString())
          && lines.get(0).contains("expired at"), lines.get(0));
    }
  }
}
