package io.resticmanager.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo} as a newcomer runs it: data within a minute, a ready curl for /metrics, clean stop; and
 * TLS settings refused with exit code 2 and one line.
 */
class DemoProcessIT {
  @TempDir Path dir;

  @Test
  void demoShowsABackupInMetricsWithinAMinuteAndStopsCleanly() throws Exception {
    Tools.executable("restic");
    int port = TestServer.freePort();
    Path data = dir.resolve("data");
    try (ChildProcess p = ChildProcess.start(dir, Map.of("RM_DATA_DIR", data.toString(),
        "RM_HTTP_PORT", Integer.toString(port), "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")),
        "demo")) {
      // The banner's last line: the lines before it may still be on their way until it is there.
      p.awaitOutput("Stop with Ctrl-C.", Duration.ofSeconds(60));
      assertTrue(p.outputText().contains("demo is running"));
      String banner = p.outputText();
      Path metricsToken = data.resolve("demo/metrics-token");
      assertTrue(banner.contains("curl -H \"Authorization: Bearer $(cat " + metricsToken + ")\""), banner);
      assertTrue(banner.contains(data.resolve("admin-token").toString()), banner);
      String token = Files.readString(metricsToken).trim();
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      String body = "";
      while (!body.contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1")) {
        if (System.nanoTime() > deadline) throw new AssertionError("no backup in /metrics:\n" + body + p.outputText());
        TimeUnit.MILLISECONDS.sleep(250);
        body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
      }
      assertTrue(body.contains("restic_manager_host_online{host=\"demo-host\"} 1"), body);
      // the status page the banner points at: log in with the admin token, the fleet shows the demo host
      assertTrue(banner.contains("status page:  open http://127.0.0.1:" + port + "/ in a browser"), banner);
      HttpClient noRedirects = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
      HttpResponse<String> login = noRedirects.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/ui/login"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("token=" + java.net.URLEncoder.encode(
              Files.readString(data.resolve("admin-token")).trim(), java.nio.charset.StandardCharsets.UTF_8)))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(303, login.statusCode());
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
      String fleet = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
          .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(fleet.contains(">demo-host</a>"), fleet);
      p.process.destroy();
      assertEquals(0, p.waitFor(Duration.ofSeconds(60)), p.outputText());
      String log = p.outputText();
      assertFalse(log.contains(token), "the metrics token is never printed");
      assertFalse(log.contains(Files.readString(data.resolve("admin-token")).trim()), "nor the admin token");
      assertFalse(log.contains(Files.readString(data.resolve("demo/repository-password")).trim()), "nor the password");
    }
  }

  @Test
  void tlsSettingsStopTheDemoWithExitTwoAndOneLineBeforeAnythingStarts() throws Exception {
    TestCerts.Pair pair = TestCerts.authority(dir.resolve("certs"), "demo").server(TestCerts.Alg.EC);
    Path data = dir.resolve("data");
    Map<String, String> env = Map.of("RM_DATA_DIR", data.toString(),
        "RM_HTTP_PORT", Integer.toString(TestServer.freePort()),
        "RM_TLS_CERT_FILE", pair.cert().toString(), "RM_TLS_KEY_FILE", pair.key().toString());
    try (ChildProcess p = ChildProcess.start(dir, env, ChildProcess.FAST_START, "demo")) {
      assertEquals(2, p.waitFor(Duration.ofSeconds(60)), p.outputText());
      List<String> lines = p.outputText().lines().filter(l -> !l.isBlank()).toList();
      assertEquals(1, lines.size(), p.outputText());
      String line = lines.get(0);
      assertTrue(line.startsWith("invalid configuration: restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE) = \""
          + pair.cert() + "\": the demo serves plain HTTP") && line.contains("serve and agent"), line);
    }
    assertFalse(Files.exists(data.resolve("demo")), "nothing of the demo was created");
  }
}
