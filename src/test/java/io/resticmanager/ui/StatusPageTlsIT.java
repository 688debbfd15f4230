package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Over HTTPS the status page's session cookie is also {@code Secure}, and still opens the pages. */
class StatusPageTlsIT {
  @TempDir Path dir;

  @Test
  void theSessionCookieIsSecureWhenTheListenerSpeaksTls() throws Exception {
    TestCerts.Pair pair = TestCerts.authority(dir.resolve("certs"), "ui").server(TestCerts.Alg.EC);
    try (TestServer server = TestServer.start(dir.resolve("data"), "",
        Map.of("RM_TLS_CERT_FILE", pair.cert().toString(), "RM_TLS_KEY_FILE", pair.key().toString()))) {
      HttpClient http = HttpClient.newBuilder().sslContext(server.api().tls())
          .followRedirects(HttpClient.Redirect.NEVER).build();
      HttpResponse<String> login = http.send(HttpRequest.newBuilder(server.uri("/ui/login"))
          .timeout(Duration.ofSeconds(20))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(
              "token=" + URLEncoder.encode(server.adminToken(), StandardCharsets.UTF_8)))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(303, login.statusCode());
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
      assertTrue(cookie.endsWith("; HttpOnly; SameSite=Strict; Secure"), cookie);
      HttpResponse<String> fleet = http.send(HttpRequest.newBuilder(server.uri("/"))
          .header("Cookie", cookie.split(";")[0]).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, fleet.statusCode());
      assertTrue(fleet.body().contains("<h1>Fleet</h1>"), fleet.body());
    }
  }
}
