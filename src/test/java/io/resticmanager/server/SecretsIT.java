package io.resticmanager.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.store.Tokens;
import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.Json;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.net.URI;
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
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets (issue 8, item 7): the admin, agent, enrollment and metrics tokens are distinct and none opens
 * another's door; tokens are stored only as SHA-256 (the SQLite file and its WAL are scanned byte by
 * byte); and the logs of a whole server run at DEBUG level (serve, enroll, agent jobs, scrapes, refused
 * requests, SIGTERM) contain none of them, nor the database password.
 */
class SecretsIT {
  private static final String METRICS_TOKEN = "secrets-metrics-token-0123456789";
  private static final String DB_PASSWORD = "secrets-db-password-0123456789";
  private static final Duration START = Duration.ofSeconds(60);
  private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
  private static final String[] ADMIN_ROUTES = {
      "GET /api/v1/hosts", "GET /api/v1/jobs", "GET /api/v1/alerts", "POST /api/v1/enrollment-tokens"};

  @TempDir Path dir;

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
    int port = TestServer.freePort();
    Path data = dir.resolve("data");
    Map<String, String> env = new HashMap<>(dbEnv);
    env.put("RM_DATA_DIR", data.toString());
    env.put("RM_HTTP_PORT", Integer.toString(port));
    env.put("RM_METRICS_TOKEN", METRICS_TOKEN);
    Path logback = dir.resolve("logback-debug.xml");
    Files.writeString(logback, """
        <configuration>
          <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d %-5level [%thread] %logger - %msg%n</pattern></encoder>
          </appender>
          <root level="DEBUG"><appender-ref ref="STDOUT"/></root>
        </configuration>
        """);
    Path conf = dir.resolve("debug.conf");
    Files.writeString(conf, "pekko.loglevel = DEBUG\n");
    List<String> secrets = new ArrayList<>(moreSecrets);
    secrets.add(METRICS_TOKEN);
    try (ChildProcess server = ChildProcess.start(dir, env,
        List.of("-Dlogback.configurationFile=" + logback.toUri(), "-XX:TieredStopAtLevel=1"),
        "serve", "--config", conf.toString())) {
      server.awaitOutput("Listening on", START);
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

      server.sigterm();
      assertEquals(0, server.waitFor(START));
      String log = server.outputText();
      assertTrue(log.contains("DEBUG") && log.contains("enrolled") && log.contains("Stopped"),
          "a whole run was logged, at DEBUG level");
      for (String secret : secrets) {
        assertFalse(log.contains(secret), "a secret is in the log: " + secret.substring(0, 6) + "...");
      }
    }
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
