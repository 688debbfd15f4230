package io.resticmanager.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.store.Tokens;
import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.Json;
import io.resticmanager.support.RawHttp;
import io.resticmanager.support.RawWebSocket;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Secrets (issue 8, item 7): the admin, agent, enrollment and metrics tokens are distinct and none opens
 * another's door; tokens are stored only as SHA-256 (the SQLite file and its WAL are scanned byte by
 * byte); and the logs of a whole server run at DEBUG level (serve, enroll, agent jobs, scrapes, refused
 * requests, SIGTERM) contain none of them, nor the database password. Issue 12: tokens of any printable
 * Unicode work, and neither they, nor near misses of them, nor tokens in query strings or unparsable
 * requests reach the log or an error body.
 */
class SecretsIT {
  private static final String METRICS_TOKEN = "secrets-metrics-token-0123456789";
  private static final String DB_PASSWORD = "secrets-db-password-0123456789";
  private static final Duration START = Duration.ofSeconds(60);
  private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
  private static final String[] ADMIN_ROUTES = {
      "GET /api/v1/hosts", "GET /api/v1/jobs", "GET /api/v1/alerts", "POST /api/v1/enrollment-tokens"};

  /** Non-ASCII letters, spaces and {@code =} in the middle: not an RFC 7235 token68. */
  private static final String ODD_ADMIN = "\u00e4dmin t\u00f6k=en \u2713 0123456789";
  private static final String ODD_METRICS = "m\u00ebtrics  t\u00f6k=en \u2713 9876543210";

  @TempDir Path dir;
  private int port;
  private final List<String> errorBodies = new ArrayList<>();

  @Test
  void eachTokenOpensOnlyItsOwnDoorAndTokensAreStoredOnlyAsHashes() throws Exception {
    try (TestServer server = TestServer.start(dir, "", Map.of("RM_METRICS_TOKEN", METRICS_TOKEN))) {
      ServerApi api = new ServerApi(server.port(), server.adminToken(), METRICS_TOKEN);
      String admin = server.adminToken();
      String unused = TestServer.field(server.admin("POST", "/api/v1/enrollment-tokens", "{}").body(), "token");
      String used = TestServer.field(server.admin("POST", "/api/v1/enrollment-tokens", "{}").body(), "token");
      var enrolled = server.send("POST", "/api/v1/agents/enroll", null,
          "{\"enrollment_token\":\"" + used + "\",\"hostname\":\"keeper\"}");
      assertEquals(201, enrolled.statusCode());
      String agent = TestServer.field(enrolled.body(), "agent_token");
      List<String> all = List.of(admin, unused, used, agent, METRICS_TOKEN);
      assertEquals(all.size(), new HashSet<>(all).size(), "every token is distinct");

      // Each door with its own key first, so that the refusals below are about the key, not the door.
      for (String route : ADMIN_ROUTES) {
        int status = adminStatus(api, route, admin);
        assertTrue(status == 200 || status == 201, route + " answered " + status);
      }
      assertEquals(200, api.get("/metrics", METRICS_TOKEN).statusCode());
      assertEquals(101, upgradeStatus(server.wsUri(), agent));

      for (String other : List.of(agent, METRICS_TOKEN, unused, used)) {
        for (String route : ADMIN_ROUTES) assertEquals(401, adminStatus(api, route, other), route);
      }
      for (String other : List.of(admin, agent, unused, used)) {
        assertEquals(401, api.get("/metrics", other).statusCode());
      }
      for (String other : List.of(admin, METRICS_TOKEN, unused, used)) {
        assertEquals(401, upgradeStatus(server.wsUri(), other));
      }
      try (TestAgent a = TestAgent.connectAndHello(server.wsUri(), agent, "keeper")) {
        a.runJob(UUID.randomUUID(), "backup", "succeeded", T0, T0.plusSeconds(1), 1);
      }

      byte[] stored = storedBytes(dir);
      assertTrue(contains(stored, Tokens.sha256Hex(agent)), "the agent token's hash is stored (the scan works)");
      for (String secret : all) assertFalse(contains(stored, secret), "a token is stored in plain text");
    }
  }

  @Test
  void aWholeServerRunOnSqliteLogsNoSecretEvenAtDebugLevel() throws Exception {
    wholeRun(Map.of(), List.of());
  }

  @Test
  void aWholeServerRunOnPostgresLogsNeitherTokensNorTheDatabasePassword() throws Exception {
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    try {
      // Trust authentication ignores the password: it is there to be looked for in the log.
      wholeRun(Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user(), "RM_DB_PASSWORD", DB_PASSWORD),
          List.of(DB_PASSWORD));
    } finally {
      TestDatabases.dropPostgresSchema(pg);
    }
  }

  private void wholeRun(Map<String, String> dbEnv, List<String> moreSecrets) throws Exception {
    port = TestServer.freePort();
    Path data = dir.resolve("data");
    Map<String, String> env = new HashMap<>(dbEnv);
    env.put("RM_METRICS_TOKEN", METRICS_TOKEN);
    List<String> secrets = new ArrayList<>(moreSecrets);
    secrets.add(METRICS_TOKEN);
    try (ChildProcess server = debugServer(port, env, "")) {
      String admin = Files.readString(data.resolve("admin-token")).trim();
      secrets.add(admin);
      ServerApi api = new ServerApi(port, admin, METRICS_TOKEN);

      String enrollment = TestServer.field(api.send("POST", "/api/v1/enrollment-tokens", admin, "{}").body(), "token");
      secrets.add(enrollment);
      var enrolled = api.send("POST", "/api/v1/agents/enroll", null,
          "{\"enrollment_token\":\"" + enrollment + "\",\"hostname\":\"logged-host\"}");
      String agent = TestServer.field(enrolled.body(), "agent_token");
      secrets.add(agent);
      try (TestAgent a = TestAgent.connectAndHello(api.wsUri(), agent, "logged-host")) {
        a.runJob(UUID.randomUUID(), "backup", "failed", T0, T0.plusSeconds(3), 0);
        a.runJob(UUID.randomUUID(), "backup", "succeeded", T0.plusSeconds(10), T0.plusSeconds(20), 7);
        String jobs = api.admin("/api/v1/jobs");
        assertEquals(2, Json.objects(jobs).size());
        assertTrue(api.metrics().seriesKeys().stream().anyMatch(k -> k.contains("logged-host")));
      }
      // Refused attempts, each with a real secret in the wrong place, and a used enrollment token again.
      assertEquals(401, api.get("/api/v1/hosts", agent).statusCode());
      assertEquals(401, api.get("/metrics", admin).statusCode());
      assertEquals(401, upgradeStatus(api.wsUri(), METRICS_TOKEN));
      assertEquals(401, api.send("POST", "/api/v1/agents/enroll", null,
          "{\"enrollment_token\":\"" + enrollment + "\",\"hostname\":\"again\"}").statusCode());

      String log = stopAndReadLog(server);
      assertTrue(log.contains("enrolled"), "a whole run was logged");
      assertNoneIn(log, "the log", secrets);
    }
  }

  /**
   * Issue 12: admin and metrics tokens with non-ASCII letters, spaces and {@code =} inside work, from the
   * environment or from files (config file, metrics token file), sent as UTF-8 bytes; so do the enrollment
   * and agent tokens. Near misses of each kind are refused, a token in a query string or in a request Pekko
   * cannot parse is refused, and none of these values reaches the DEBUG log or an error body.
   */
  @ParameterizedTest(name = "tokens from files: {0}")
  @ValueSource(booleans = {false, true})
  void tokensOfAnyPrintableUnicodeWorkAndNeitherTheyNorNearMissesAreLogged(boolean fromFiles) throws Exception {
    port = TestServer.freePort();
    Map<String, String> env = new HashMap<>();
    String conf = "";
    if (fromFiles) {
      Path tokenFile = dir.resolve("metrics.token");
      Files.writeString(tokenFile, "\n  " + ODD_METRICS + " \n", UTF_8);
      env.put("RM_METRICS_TOKEN_FILE", tokenFile.toString());
      conf = "restic-manager.admin-token = \"" + ODD_ADMIN + "\"\n";
    } else {
      env.put("RM_ADMIN_TOKEN", ODD_ADMIN);
      env.put("RM_METRICS_TOKEN", ODD_METRICS);
    }
    try (ChildProcess server = debugServer(port, env, conf)) {
      String admin = "Authorization: Bearer " + ODD_ADMIN;
      assertEquals(200, call("GET", "/api/v1/hosts", admin, "").status());
      String enrollment = TestServer.field(call("POST", "/api/v1/enrollment-tokens", admin, "{}").body(), "token");
      RawHttp.Response enrolled = call("POST", "/api/v1/agents/enroll", "", enrollBody(enrollment, "odd-host"));
      assertEquals(201, enrolled.status());
      String agent = TestServer.field(enrolled.body(), "agent_token");
      assertEquals(200, call("GET", "/metrics", "Authorization: Bearer " + ODD_METRICS, "").status());
      assertEquals(200, call("GET", "/metrics", "Authorization:   bearer   " + ODD_METRICS + "  ", "").status());
      assertEquals(101, upgrade(agent).status());

      List<String> wrong = new ArrayList<>();
      for (String miss : nearMisses(ODD_ADMIN)) {
        wrong.add(miss);
        assertEquals(401, call("GET", "/api/v1/hosts", "Authorization: Bearer " + miss, "").status(), miss);
      }
      for (String miss : nearMisses(ODD_METRICS)) {
        wrong.add(miss);
        assertEquals(401, call("GET", "/metrics", "Authorization: Bearer " + miss, "").status(), miss);
      }
      for (String miss : nearMisses(agent)) {
        wrong.add(miss);
        assertEquals(401, upgrade(miss).status(), miss);
      }
      for (String miss : nearMisses(enrollment)) {
        wrong.add(miss);
        assertEquals(401, call("POST", "/api/v1/agents/enroll", "", enrollBody(miss, "odd-" + wrong.size())).status());
      }
      assertEquals(401, call("POST", "/api/v1/agents/enroll", "", enrollBody(enrollment, "again")).status());
      assertEquals(401, call("GET", "/metrics", admin, "").status());
      assertEquals(401, call("GET", "/api/v1/hosts", "Authorization: Bearer " + ODD_METRICS, "").status());
      assertEquals(401, call("GET", "/api/v1/hosts", "Authorization: Basic " + ODD_ADMIN, "").status());
      // Other headers that carry credentials elsewhere: ignored here, and never logged.
      assertEquals(401, call("GET", "/api/v1/hosts",
          "Proxy-Authorization: Bearer " + ODD_ADMIN + "\r\nCookie: session=" + ODD_ADMIN, "").status());
      // A header Pekko always parses, where browser clients put tokens (they cannot set Authorization on a
      // WebSocket): unparsable here, so Pekko warns.
      assertEquals(101, kept(RawHttp.exchange(port, RawWebSocket.upgradeRequest(agent)
          .replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: " + ODD_ADMIN + "\r\n\r\n"))).status());
      // A control character makes the header unparsable: Pekko refuses the request before any route.
      assertEquals(400, call("GET", "/api/v1/hosts", admin + "\u0001", "").status());

      // Tokens in query strings, which no route reads: percent-encoded, raw, too long, invalid.
      String query = "?token=" + URLEncoder.encode(ODD_ADMIN, UTF_8);
      assertEquals(200, call("GET", "/api/v1/hosts" + query, admin, "").status());
      // An answer before the request body has arrived is one Pekko warns about, naming the request.
      assertEquals(200, call("GET", "/api/v1/hosts" + query, admin + "\r\nContent-Length: 5", "").status());
      assertEquals(400, call("GET", "/api/v1/jobs?limit=%zz&" + query.substring(1), admin, "").status());
      assertEquals(400, call("GET", "/api/v1/hosts?token=" + ODD_ADMIN, "", "").status());
      // Spaces end the request target early: the rest of the token is read as the HTTP version.
      assertEquals(505, call("GET", "/api/v1/hosts" + query.replace("+", " "), "", "").status());
      assertEquals(414, call("GET", "/api/v1/hosts" + query + "&pad=" + "p".repeat(3000), "", "").status());
      assertEquals(501, call("BREW", "/api/v1/hosts" + query, admin, "").status());

      String log = stopAndReadLog(server);
      List<String> all = new ArrayList<>(List.of(ODD_ADMIN, ODD_METRICS, enrollment, agent));
      all.addAll(wrong);
      assertNoneIn(log, "the log", all);
      for (String body : errorBodies) assertNoneIn(body, "an error body", all);
      assertFalse(log.contains("[authorization]"), "a token that is not token68 is no news to warn about");
      assertTrue(log.contains("[sec-websocket-protocol]"), "an unparsable header is named");
    }
  }

  /**
   * Starts {@code serve} in a child JVM on {@code port} with {@code env} and the operator file {@code conf}, Pekko
   * and every logger at DEBUG, and waits until it listens. The data directory is {@code dir/data}. The child
   * runs with UTF-8 as its default charset, so that non-ASCII tokens in variables are decoded (Java 17 decodes
   * the environment in that charset) and a non-ASCII token in the log would be written as itself.
   */
  private ChildProcess debugServer(int port, Map<String, String> env, String conf) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("RM_DATA_DIR", dir.resolve("data").toString());
    all.put("RM_HTTP_PORT", Integer.toString(port));
    Path logback = dir.resolve("logback-debug.xml");
    Files.writeString(logback, """
        <configuration>
          <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder>
              <pattern>%d %-5level [%thread] %logger - %msg%n</pattern>
              <charset>UTF-8</charset>
            </encoder>
          </appender>
          <root level="DEBUG"><appender-ref ref="STDOUT"/></root>
        </configuration>
        """);
    Path confFile = dir.resolve("debug.conf");
    Files.writeString(confFile, "pekko.loglevel = DEBUG\n" + conf, UTF_8);
    ChildProcess server = ChildProcess.start(dir, all,
        List.of("-Dlogback.configurationFile=" + logback.toUri(), "-Dfile.encoding=UTF-8", "-XX:TieredStopAtLevel=1"),
        "serve", "--config", confFile.toString());
    try {
      server.awaitOutput("Listening on", START);
      return server;
    } catch (Throwable e) {
      server.close();
      throw e;
    }
  }

  /** SIGTERM, a clean exit, and the whole output, which must hold Pekko's DEBUG lines. */
  private static String stopAndReadLog(ChildProcess server) throws Exception {
    server.sigterm();
    assertEquals(0, server.waitFor(START));
    String log = Files.readString(server.output, UTF_8);
    assertTrue(log.contains("DEBUG") && log.contains("Stopped"), "a whole run was logged, at DEBUG level");
    return log;
  }

  /**
   * Fails when any of {@code values} is in {@code text}: as itself, percent-encoded (as in a query string), or
   * with its UTF-8 bytes read as ISO-8859-1 (as a parser that decodes bytes one by one would show it).
   */
  private static void assertNoneIn(String text, String where, List<String> values) {
    for (String v : values) {
      String encoded = URLEncoder.encode(v, UTF_8);
      for (String form : List.of(v, encoded, encoded.replace("+", "%20"), new String(v.getBytes(UTF_8), ISO_8859_1))) {
        assertFalse(text.contains(form), () -> "a token is in " + where + ": " + v.substring(0, 4) + "...");
      }
    }
  }

  /** Wrong tokens one slip away from {@code token}: a character short or over, another case, another first letter. */
  private static List<String> nearMisses(String token) {
    int half = token.length() / 2;
    return Stream.of(token.substring(0, token.length() - 1), token + "=", token.toUpperCase(Locale.ROOT),
            "\u00e9" + token.substring(1), token.substring(0, half) + " \u2717=" + token.substring(half))
        .filter(miss -> !miss.equals(token)).toList();
  }

  private static String enrollBody(String enrollmentToken, String hostname) {
    return "{\"enrollment_token\":\"" + enrollmentToken + "\",\"hostname\":\"" + hostname + "\"}";
  }

  /**
   * One request over a raw socket, header values sent as UTF-8 bytes (the JDK client refuses non-ASCII ones).
   * {@code headers} are header lines without the final CRLF, or empty; a non-empty {@code body} is sent as JSON.
   * Error bodies are kept for the final check.
   */
  private RawHttp.Response call(String method, String target, String headers, String body) throws Exception {
    StringBuilder request = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!headers.isEmpty()) request.append(headers).append("\r\n");
    if (!body.isEmpty()) {
      request.append("Content-Type: application/json\r\nContent-Length: ").append(body.getBytes(UTF_8).length).append("\r\n");
    }
    request.append("\r\n").append(body);
    return kept(RawHttp.exchange(port, request.toString()));
  }

  private RawHttp.Response upgrade(String agentToken) throws Exception {
    return kept(RawHttp.exchange(port, RawWebSocket.upgradeRequest(agentToken)));
  }

  private RawHttp.Response kept(RawHttp.Response response) {
    if (response.status() >= 400) errorBodies.add(response.body());
    return response;
  }

  private static int adminStatus(ServerApi api, String route, String token) throws Exception {
    String[] mv = route.split(" ");
    return api.send(mv[0], mv[1], token, mv[0].equals("POST") ? "{}" : null).statusCode();
  }

  /** 101 when the upgrade is accepted, else the refusal's status. */
  private static int upgradeStatus(URI ws, String token) throws Exception {
    try {
      WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + token)
          .connectTimeout(Duration.ofSeconds(5)).buildAsync(ws, new WebSocket.Listener() {})
          .get(10, TimeUnit.SECONDS);
      socket.abort();
      return 101;
    } catch (ExecutionException e) {
      return assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse().statusCode();
    }
  }

  /** The bytes of the SQLite database and its WAL. */
  private static byte[] storedBytes(Path dataDir) throws Exception {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (String f : List.of("restic-manager.db", "restic-manager.db-wal")) {
      Path p = dataDir.resolve(f);
      if (Files.exists(p)) all.write(Files.readAllBytes(p));
    }
    assertTrue(all.size() > 0, "the database files exist");
    return all.toByteArray();
  }

  private static boolean contains(byte[] haystack, String needle) {
    byte[] n = needle.getBytes(UTF_8);
    outer:
    for (int i = 0; i + n.length <= haystack.length; i++) {
      for (int j = 0; j < n.length; j++) {
        if (haystack[i + j] != n[j]) continue outer;
      }
      return true;
    }
    return false;
  }
}
