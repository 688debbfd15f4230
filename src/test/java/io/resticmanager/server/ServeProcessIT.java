package io.resticmanager.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server as an operator runs it: a separate JVM, exit codes, signals, the admin token file, logs. */
class ServeProcessIT {
  @TempDir Path dir;

  private static final Duration START = Duration.ofSeconds(60);

  @Test
  void badCidrExitsTwoNamingKeyAndValue() throws Exception {
    try (ChildProcess p = ChildProcess.start(dir, Map.of("RM_DATA_DIR", dir.resolve("d").toString(),
        "RM_METRICS_TRUSTED_CIDR", "10.0.0.0/33"), "serve")) {
      assertEquals(2, p.waitFor(START));
      String out = p.outputText();
      assertTrue(out.contains("RM_METRICS_TRUSTED_CIDR") && out.contains("10.0.0.0/33"), out);
    }
  }

  @Test
  void badPortExitsTwoNamingKeyAndValue() throws Exception {
    try (ChildProcess p = ChildProcess.start(dir, Map.of("RM_DATA_DIR", dir.resolve("d").toString(),
        "RM_HTTP_PORT", "70000"), "serve")) {
      assertEquals(2, p.waitFor(START));
      String out = p.outputText();
      assertTrue(out.contains("RM_HTTP_PORT") && out.contains("70000"), out);
    }
  }

  @Test
  void unknownCommandExitsTwo() throws Exception {
    try (ChildProcess p = ChildProcess.start(dir, Map.of(), "frobnicate")) {
      assertEquals(2, p.waitFor(START));
      assertTrue(p.outputText().contains("frobnicate"));
    }
  }

  @Test
  void versionPrintsVersionRevisionAndJava() throws Exception {
    try (ChildProcess p = ChildProcess.start(dir, Map.of(), "version")) {
      assertEquals(0, p.waitFor(START));
      String out = p.outputText();
      assertTrue(out.startsWith("restic-manager ") && out.contains("revision") && out.contains(
          System.getProperty("java.version")), out);
    }
  }

  @Test
  void servesHealthGeneratesAStableSecretAdminTokenAndStopsCleanlyOnSigterm() throws Exception {
    Path data = dir.resolve("data");
    int port = TestServer.freePort();
    Map<String, String> env = Map.of("RM_DATA_DIR", data.toString(), "RM_HTTP_PORT", Integer.toString(port));
    HttpClient http = HttpClient.newHttpClient();
    String firstToken;
    try (ChildProcess p = ChildProcess.start(dir, env, "serve")) {
      p.awaitOutput("Listening on", START);
      assertEquals(200, get(http, port, "/healthz", null).statusCode());
      assertEquals("ok", get(http, port, "/healthz", null).body());
      assertEquals(200, get(http, port, "/readyz", null).statusCode());
      assertEquals(404, get(http, port, "/metrics", null).statusCode(), "/metrics is not mounted unconfigured");

      Path tokenFile = data.resolve("admin-token");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
      firstToken = Files.readString(tokenFile).trim();
      assertEquals(200, get(http, port, "/api/v1/hosts", firstToken).statusCode());
      assertEquals(401, get(http, port, "/api/v1/hosts", firstToken + "x").statusCode());

      p.process.destroy(); // SIGTERM
      assertEquals(0, p.waitFor(Duration.ofSeconds(60)), p.outputText());
      String log = p.outputText();
      assertFalse(log.contains(firstToken), "the admin token must never be logged");
      assertTrue(log.contains(tokenFile.toString()), "the token's path is logged");
      assertFalse(log.contains("ERROR"), log);
    }
    try (ChildProcess p = ChildProcess.start(dir, env, "serve")) {
      p.awaitOutput("Listening on", START);
      assertEquals(firstToken, Files.readString(data.resolve("admin-token")).trim(), "stable across restarts");
      assertEquals(200, get(http, port, "/api/v1/hosts", firstToken).statusCode());
      p.process.destroy();
      assertEquals(0, p.waitFor(Duration.ofSeconds(60)));
      assertFalse(p.outputText().contains(firstToken));
    }
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
