package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.support.Await;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} end to end (contract §5, issue 4): real servers on loopback, driven by the JDK
 * {@link HttpClient} and scripted WebSocket agents. One shared "live" server (token auth, a low
 * in-flight cap) holds a fleet fed with jobs of several kinds and statuses; the authorisation matrix
 * starts a small server per configuration, since each is fixed at start.
 */
class MetricsEndToEndIT {
  private static final String TOKEN = "e2e-metrics-token-0123456789";
  private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  private static final int MAX_IN_FLIGHT = 2;
  private static final List<String> LE = List.of("1.0", "5.0", "15.0", "30.0", "60.0", "120.0", "300.0", "600.0", "1200.0", "1800.0",
      "3600.0", "7200.0", "14400.0", "28800.0", "86400.0", "+Inf");
  private static final Pattern HOST_NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]+)\"");

  @TempDir static Path shared;
  private static TestServer live;
  private static final List<TestAgent> agents = new ArrayList<>();
  private static final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  @BeforeAll
  static void startLiveServerWithAFleet() throws Exception {
    live = TestServer.start(shared.resolve("live"), "restic-manager.metrics.max-in-flight = " + MAX_IN_FLIGHT,
        Map.of("RM_METRICS_TOKEN", TOKEN));
    Instant t = Instant.now().minus(Duration.ofHours(2));
    TestAgent web = agent(live, "web-1");
    web.runJob(UUID.randomUUID(), "backup", "succeeded", t, t.plusSeconds(42), 123_456);
    web.runJob(UUID.randomUUID(), "backup", "warning", t.plusSeconds(100), t.plusSeconds(400), 789);
    web.runJob(UUID.randomUUID(), "check", "failed", t.plusSeconds(500), t.plusSeconds(520), 0);
    web.runJob(UUID.randomUUID(), "forget", "succeeded", t.plusSeconds(600), t.plusSeconds(603), 0);
    web.runJob(UUID.randomUUID(), "prune", "cancelled", t.plusSeconds(700), t.plusSeconds(4000), 0);
    // An agent's versions and OS become host_info labels: quotes, backslashes, newlines and
    // non-ASCII must come out escaped, not break the exposition.
    TestServer.Enrolled odd = live.enroll("odd-1");
    TestAgent oddAgent = TestAgent.connect(live.wsUri(), odd.agentToken());
    agents.add(oddAgent);
    oddAgent.send("{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"1.0 \\\"beta\\\"\","
        + "\"restic_version\":\"0.17.3 \\\\ x\",\"hostname\":\"odd-1\",\"os\":\"Linux\\nDebian ünï 🦀\"}");
    oddAgent.awaitFrame(f -> f.contains("\"welcome\""), Duration.ofSeconds(10));
    TestAgent db = agent(live, "db-1");
    db.runJob(UUID.randomUUID(), "backup", "failed", t, t.plusSeconds(7), 0);
    db.runJob(UUID.randomUUID(), "restore", "succeeded", t.plusSeconds(10), t.plusSeconds(70), 0);
    // web-1's agent reports its repository; db-1's, like an agent older than repository.stats, never does.
    web.send(TestAgent.repositoryStats(t.plusSeconds(800), 48, 5_368_709_120L, 8_589_934_592L));
    Await.until(Duration.ofSeconds(10), () -> live.get("/metrics", TOKEN).body()
        .contains("restic_manager_host_snapshots{host=\"web-1\"} 48\n"));
  }

  @AfterAll
  static void stopLiveServer() {
    agents.forEach(TestAgent::close);
    if (live != null) live.close();
  }

  private static TestAgent agent(TestServer s, String hostname) throws Exception {
    TestServer.Enrolled e = s.enroll(hostname);
    TestAgent a = TestAgent.connectAndHello(s.wsUri(), e.agentToken(), hostname);
    agents.add(a);
    return a;
  }

  // ---- authorisation matrix -------------------------------------------------------------------

  @Test
  void metricsIsNotMountedWhenNothingIsConfigured() throws Exception {
    try (TestServer s = TestServer.start(dir, "", Map.of())) {
      assertEquals(404, scrape(s, null).statusCode());
      assertEquals(404, scrape(s, TOKEN).statusCode());
      assertEquals(200, send(s, HttpRequest.newBuilder(s.uri("/healthz"))).statusCode());
    }
  }

  @Test
  void aTokenAloneRequiresTheRightBearerTokenInAnyCaseOfTheScheme() throws Exception {
    HttpResponse<byte[]> none = scrape(live, null);
    assertEquals(401, none.statusCode());
    assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
    assertTrue(utf8(none).contains("\"error\":\"unauthorized\""), utf8(none));
    assertEquals(401, scrape(live, "wrong-token").statusCode());
    assertEquals(401, scrape(live, TOKEN + "x").statusCode());
    assertEquals(401, send(live, request(live).header("Authorization", "Basic " + TOKEN)).statusCode());
    assertEquals(200, scrape(live, TOKEN).statusCode());
    assertEquals(200, send(live, request(live).header("Authorization", "bearer " + TOKEN)).statusCode());
    assertEquals(200, send(live, request(live).header("Authorization", "BEARER " + TOKEN)).statusCode());
    assertEquals(401, rawStatus(live, "Authorization: Bearer " + TOKEN, "Authorization: Bearer " + TOKEN));
    assertEquals(200, rawStatus(live, "Authorization: Bearer " + TOKEN));
  }

  @Test
  void aCidrAloneAdmitsAddressesInsideAndForbidsOthers() throws Exception {
    try (TestServer inside = TestServer.start(dir.resolve("in"), "", Map.of("RM_METRICS_TRUSTED_CIDR", "127.0.0.0/8"))) {
      assertEquals(200, scrape(inside, null).statusCode());
    }
    try (TestServer outside = TestServer.start(dir.resolve("out"), "", Map.of("RM_METRICS_TRUSTED_CIDR", "10.0.0.0/8"))) {
      HttpResponse<byte[]> r = scrape(outside, null);
      assertEquals(403, r.statusCode());
      assertTrue(utf8(r).contains("\"error\":\"forbidden\""), utf8(r));
      assertEquals(403, scrape(outside, TOKEN).statusCode());
    }
  }

  @Test
  void withTokenAndCidrBothSetBothMustPass() throws Exception {
    try (TestServer inside = TestServer.start(dir.resolve("in"), "",
        Map.of("RM_METRICS_TOKEN", TOKEN, "RM_METRICS_TRUSTED_CIDR", "127.0.0.0/8"))) {
      assertEquals(200, scrape(inside, TOKEN).statusCode());
      assertEquals(401, scrape(inside, null).statusCode());
      assertEquals(401, scrape(inside, "wrong").statusCode());
    }
    try (TestServer outside = TestServer.start(dir.resolve("out"), "",
        Map.of("RM_METRICS_TOKEN", TOKEN, "RM_METRICS_TRUSTED_CIDR", "10.0.0.0/8"))) {
      assertEquals(403, scrape(outside, TOKEN).statusCode());
      assertEquals(403, scrape(outside, null).statusCode());
    }
  }

  @Test
  void withTokenAndCidrBothSetEachFailingAloneDeniesBehindATrustedProxy() throws Exception {
    // The client address is chosen through a trusted proxy (the test itself, on 127.0.0.1).
    try (TestServer s = TestServer.start(dir, "", Map.of("RM_METRICS_TOKEN", TOKEN,
        "RM_METRICS_TRUSTED_CIDR", "203.0.113.0/24", "RM_TRUSTED_PROXIES", "127.0.0.1/32"))) {
      assertEquals(200, send(s, request(s, TOKEN).header("X-Forwarded-For", "203.0.113.9")).statusCode());
      HttpResponse<byte[]> tokenFails = send(s, request(s, "wrong").header("X-Forwarded-For", "203.0.113.9"));
      assertEquals(401, tokenFails.statusCode());
      assertEquals("Bearer", tokenFails.headers().firstValue("WWW-Authenticate").orElse(""));
      assertEquals(401, send(s, request(s, null).header("X-Forwarded-For", "203.0.113.9")).statusCode());
      assertEquals(403, send(s, request(s, TOKEN).header("X-Forwarded-For", "198.51.100.7")).statusCode());
      assertEquals(403, scrape(s, TOKEN).statusCode());
    }
  }

  @Test
  void xForwardedForIsWalkedRightToLeftOnlyWhenTheProxyIsTrusted() throws Exception {
    try (TestServer s = TestServer.start(dir, "", Map.of(
        "RM_METRICS_TRUSTED_CIDR", "203.0.113.0/24", "RM_TRUSTED_PROXIES", "127.0.0.1/32"))) {
      Map<String, Integer> expected = new LinkedHashMap<>();
      expected.put("203.0.113.5", 200);
      expected.put("198.51.100.7", 403);
      expected.put("198.51.100.7, 203.0.113.5", 200);
      expected.put("203.0.113.5, 198.51.100.7", 403);
      expected.put("198.51.100.7,203.0.113.5, 127.0.0.1", 200);
      expected.put("203.0.113.5:4711", 200);
      expected.put("198.51.100.7:4711", 403);
      expected.put("[2001:db8::1]:443", 403);
      expected.put("::ffff:203.0.113.5", 200);
      expected.put("client.example.com", 403);
      expected.put("client.example.com, 203.0.113.5", 403);
      expected.put("203.0.113.5, proxy.example.com", 403);
      expected.put("unknown", 403);
      expected.put("localhost", 403);
      for (Map.Entry<String, Integer> e : expected.entrySet()) {
        HttpResponse<byte[]> r = send(s, request(s, null).header("X-Forwarded-For", e.getKey()));
        assertEquals(e.getValue(), r.statusCode(), "X-Forwarded-For: " + e.getKey());
      }
      // The test's own peer address is outside the CIDR, so no header means 403.
      assertEquals(403, scrape(s, null).statusCode());
      assertEquals(403, send(s, request(s, null).header("X-Real-IP", "203.0.113.5")).statusCode());
      assertEquals(403, send(s, request(s, null).header("Forwarded", "for=203.0.113.5")).statusCode());
      // Two header lines are joined in order before the walk, exactly as sent on the wire.
      assertEquals(200, rawStatus(s, "X-Forwarded-For: 198.51.100.7", "X-Forwarded-For: 203.0.113.5"));
      assertEquals(403, rawStatus(s, "X-Forwarded-For: 203.0.113.5", "X-Forwarded-For: 198.51.100.7"));
      assertEquals(403, rawStatus(s, "X-Forwarded-For: 203.0.113.5", "X-Forwarded-For: bad.example"));
    }
  }

  @Test
  void xForwardedForFromAPeerThatIsNotATrustedProxyIsIgnored() throws Exception {
    try (TestServer s = TestServer.start(dir, "", Map.of("RM_METRICS_TRUSTED_CIDR", "203.0.113.0/24"))) {
      assertEquals(403, send(s, request(s, null).header("X-Forwarded-For", "203.0.113.5")).statusCode());
      assertEquals(403, rawStatus(s, "X-Forwarded-For: 203.0.113.5", "X-Forwarded-For: 203.0.113.6"));
    }
    try (TestServer s = TestServer.start(dir.resolve("other-proxy"), "", Map.of(
        "RM_METRICS_TRUSTED_CIDR", "203.0.113.0/24", "RM_TRUSTED_PROXIES", "192.0.2.0/24"))) {
      assertEquals(403, send(s, request(s, null).header("X-Forwarded-For", "203.0.113.5")).statusCode());
    }
  }

  @Test
  void aRotatedTokenFileAdmitsTheNewTokenAndRefusesTheOld() throws Exception {
    Path file = Files.writeString(dir.resolve("metrics.token"), "first-token-abc\n");
    try (TestServer s = TestServer.start(dir.resolve("data"), "",
        Map.of("RM_METRICS_TOKEN_FILE", file.toString()))) {
      assertEquals(200, scrape(s, "first-token-abc").statusCode());
      assertEquals(401, scrape(s, "second-token-xyz").statusCode());

      Files.writeString(file, "  second-token-xyz  \n");
      assertEquals(200, scrape(s, "second-token-xyz").statusCode());
      HttpResponse<byte[]> old = scrape(s, "first-token-abc");
      assertEquals(401, old.statusCode());
      assertEquals("Bearer", old.headers().firstValue("WWW-Authenticate").orElse(""));
      assertEquals(401, scrape(s, null).statusCode());

      Files.writeString(file, "third-token-123");
      assertEquals(200, scrape(s, "third-token-123").statusCode());
      assertEquals(401, scrape(s, "second-token-xyz").statusCode());

      // Mid-rotation the file may be briefly empty or gone: that fails closed, never open.
      Files.writeString(file, "\n");
      assertEquals(503, scrape(s, "third-token-123").statusCode());
      Files.delete(file);
      HttpResponse<byte[]> gone = scrape(s, "third-token-123");
      assertEquals(503, gone.statusCode());
      assertFalse(utf8(gone).contains(file.toString()), "the response must not name the token file");
      Files.writeString(file, "fourth-token-456\n");
      assertEquals(200, scrape(s, "fourth-token-456").statusCode());
    }
  }

  // ---- representation -------------------------------------------------------------------------

  @Test
  void theTextFormatCarriesTheExactContentType() throws Exception {
    HttpResponse<byte[]> r = scrape(live, TOKEN);
    assertEquals(200, r.statusCode());
    assertEquals(TEXT, r.headers().firstValue("Content-Type").orElse(""));
    assertTrue(utf8(r).startsWith("# HELP "), utf8(r));
    assertTrue(utf8(r).endsWith("\n"));
    assertFalse(utf8(r).contains("# EOF"));
  }

  @Test
  void acceptingOpenMetricsGetsOpenMetricsEndingInEof() throws Exception {
    HttpResponse<byte[]> r = send(live, request(live, TOKEN)
        .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assertEquals(200, r.statusCode());
    assertEquals(OPENMETRICS, r.headers().firstValue("Content-Type").orElse(""));
    assertTrue(utf8(r).endsWith("# EOF\n"), utf8(r));
    assertEquals(1, utf8(r).split("# EOF", -1).length - 1, "exactly one # EOF");
    // The same series as the text format; only the framing differs.
    assertEquals(plainKeys(scrape(live, TOKEN)), Exposition.parse(utf8(r)).seriesKeys());
  }

  @Test
  void gzipIsSentOnlyWhenAcceptEncodingAllowsIt() throws Exception {
    HttpResponse<byte[]> zipped = send(live, request(live, TOKEN).header("Accept-Encoding", "gzip, deflate"));
    assertEquals(200, zipped.statusCode());
    assertEquals("gzip", zipped.headers().firstValue("Content-Encoding").orElse(""));
    assertEquals(TEXT, zipped.headers().firstValue("Content-Type").orElse(""));
    assertEquals("Accept-Encoding", zipped.headers().firstValue("Vary").orElse(""), "caches keep the variants apart");
    String unzipped = gunzip(zipped.body());
    Exposition z = Exposition.parse(unzipped);
    Exposition plain = Exposition.parse(utf8(scrape(live, TOKEN)));
    assertEquals(plain.types(), z.types());
    assertEquals(plain.seriesKeys(), z.seriesKeys());

    HttpResponse<byte[]> asIs = scrape(live, TOKEN);
    assertTrue(asIs.headers().firstValue("Content-Encoding").isEmpty(), asIs.headers().toString());
    assertEquals("Accept-Encoding", asIs.headers().firstValue("Vary").orElse(""));
    assertTrue(utf8(asIs).startsWith("# HELP "));
    for (String refusal : List.of("identity", "gzip;q=0", "br")) {
      HttpResponse<byte[]> r = send(live, request(live, TOKEN).header("Accept-Encoding", refusal));
      assertEquals(200, r.statusCode(), refusal);
      assertTrue(r.headers().firstValue("Content-Encoding").isEmpty(), refusal + ": " + r.headers());
      assertTrue(utf8(r).startsWith("# HELP "), refusal);
    }
  }

  @Test
  void openMetricsRefusedWithQZeroGetsTheTextFormat() throws Exception {
    HttpResponse<byte[]> r = send(live, request(live, TOKEN)
        .header("Accept", "application/openmetrics-text;q=0, text/plain;version=0.0.4"));
    assertEquals(200, r.statusCode());
    assertEquals(TEXT, r.headers().firstValue("Content-Type").orElse(""));
    assertFalse(utf8(r).contains("# EOF"));
  }

  @Test
  void openMetricsIsGzippedToo() throws Exception {
    HttpResponse<byte[]> r = send(live, request(live, TOKEN)
        .header("Accept", "application/openmetrics-text; version=1.0.0").header("Accept-Encoding", "gzip"));
    assertEquals(200, r.statusCode());
    assertEquals(OPENMETRICS, r.headers().firstValue("Content-Type").orElse(""));
    assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(""));
    assertTrue(gunzip(r.body()).endsWith("# EOF\n"));
  }

  @Test
  void headIsAnsweredWithoutABody() throws Exception {
    HttpResponse<byte[]> r = send(live, request(live, TOKEN).method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, r.statusCode());
    assertEquals(TEXT, r.headers().firstValue("Content-Type").orElse(""));
    assertEquals(0, r.body().length);
    assertEquals(401, send(live, request(live, null).method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode());
  }

  // ---- the live body --------------------------------------------------------------------------

  @Test
  void theLiveBodyPassesPromtoolCheckMetrics() throws Exception {
    Path promtool = Tools.executable("promtool");
    byte[] body = scrape(live, TOKEN).body();
    String text = new String(body, UTF_8);
    // The fleet the check runs on: hosts, jobs of several kinds and statuses, open alerts, build info.
    Exposition e = Exposition.parse(text);
    assertTrue(e.labelValues("host").containsAll(Set.of("web-1", "db-1")), text);
    assertTrue(e.one("restic_manager_alerts_open", Map.of("kind", "check_failed")).number() >= 1, text);
    assertTrue(e.one("restic_manager_alerts_open", Map.of("kind", "backup_failed")).number() >= 1, text);
    assertEquals(1, e.named("restic_manager_build_info").size(), text);
    assertEquals(System.getProperty("java.version"),
        e.named("restic_manager_build_info").get(0).label("java_version"));
    Exposition.Sample odd = e.one("restic_manager_host_info", Map.of("host", "odd-1"));
    assertEquals("1.0 \"beta\"", odd.label("agent_version"));
    assertEquals("0.17.3 \\ x", odd.label("restic_version"));
    assertEquals("Linux\nDebian ünï 🦀", odd.label("os"));

    Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(body);
    }
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
    assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out + "\non:\n" + text);
  }

  @Test
  void everyFamilyOfTheContractIsExposedWithItsTypeAndLabels() throws Exception {
    Exposition e = Exposition.parse(utf8(scrape(live, TOKEN)));
    Map<String, String> types = new LinkedHashMap<>();
    types.put("restic_manager_job_duration_seconds", "histogram");
    for (String g : List.of("hosts", "agents_connected", "host_online", "host_last_seen_timestamp_seconds",
        "host_last_job_timestamp_seconds", "host_last_success_timestamp_seconds",
        "host_last_snapshot_timestamp_seconds", "host_last_backup_added_bytes", "host_snapshots",
        "host_repository_size_bytes", "host_repository_uncompressed_size_bytes",
        "host_repository_stats_timestamp_seconds", "host_open_alerts", "host_info", "alerts_open", "build_info",
        "cluster_members")) {
      types.put("restic_manager_" + g, "gauge");
    }
    assertEquals(types, e.types());
    Map<String, Set<String>> labels = Map.ofEntries(
        Map.entry("restic_manager_job_duration_seconds_bucket", Set.of("kind", "status", "le")),
        Map.entry("restic_manager_job_duration_seconds_count", Set.of("kind", "status")),
        Map.entry("restic_manager_job_duration_seconds_sum", Set.of("kind", "status")),
        Map.entry("restic_manager_hosts", Set.of("state")),
        Map.entry("restic_manager_agents_connected", Set.of()),
        Map.entry("restic_manager_host_online", Set.of("host")),
        Map.entry("restic_manager_host_last_seen_timestamp_seconds", Set.of("host")),
        Map.entry("restic_manager_host_last_job_timestamp_seconds", Set.of("host", "kind")),
        Map.entry("restic_manager_host_last_success_timestamp_seconds", Set.of("host", "kind")),
        Map.entry("restic_manager_host_last_snapshot_timestamp_seconds", Set.of("host")),
        Map.entry("restic_manager_host_last_backup_added_bytes", Set.of("host")),
        Map.entry("restic_manager_host_snapshots", Set.of("host")),
        Map.entry("restic_manager_host_repository_size_bytes", Set.of("host")),
        Map.entry("restic_manager_host_repository_uncompressed_size_bytes", Set.of("host")),
        Map.entry("restic_manager_host_repository_stats_timestamp_seconds", Set.of("host")),
        Map.entry("restic_manager_host_open_alerts", Set.of("host")),
        Map.entry("restic_manager_host_info", Set.of("host", "agent_version", "restic_version", "os")),
        Map.entry("restic_manager_alerts_open", Set.of("kind", "severity")),
        Map.entry("restic_manager_build_info", Set.of("version", "revision", "java_version")),
        Map.entry("restic_manager_cluster_members", Set.of("status")));
    assertEquals(labels.keySet(), e.names());
    for (Exposition.Sample s : e.samples()) {
      assertEquals(labels.get(s.name()), s.labels().keySet(), s.toString());
    }
    // A cluster of one, this node up.
    assertEquals(1, e.one("restic_manager_cluster_members", Map.of("status", "up")).number());
    assertEquals(0, e.one("restic_manager_cluster_members", Map.of("status", "unreachable")).number());
    // Values the fleet fed above.
    assertEquals(789, e.one("restic_manager_host_last_backup_added_bytes", Map.of("host", "web-1")).number());
    assertEquals(1, e.one("restic_manager_host_online", Map.of("host", "web-1")).number());
    assertTrue(e.one("restic_manager_agents_connected", Map.of()).number() >= 2);
    assertEquals(1, e.one("restic_manager_host_open_alerts", Map.of("host", "db-1")).number());
    double success = e.one("restic_manager_host_last_success_timestamp_seconds",
        Map.of("host", "web-1", "kind", "backup")).number();
    double last = e.one("restic_manager_host_last_job_timestamp_seconds",
        Map.of("host", "web-1", "kind", "backup")).number();
    assertTrue(last > success, "the warning backup is newer than the succeeded one: " + last + " " + success);
    assertTrue(e.named("restic_manager_host_last_success_timestamp_seconds").stream()
        .noneMatch(s -> s.label("host").equals("db-1") && s.label("kind").equals("backup")), "db-1 never succeeded");
    assertEquals(last, e.one("restic_manager_host_last_snapshot_timestamp_seconds", Map.of("host", "web-1")).number(),
        "the warning backup made a snapshot");
    assertTrue(e.named("restic_manager_host_last_snapshot_timestamp_seconds").stream()
        .noneMatch(s -> s.label("host").equals("db-1")), "db-1's only backup failed");
    assertEquals(48, e.one("restic_manager_host_snapshots", Map.of("host", "web-1")).number());
    assertEquals(5_368_709_120.0, e.one("restic_manager_host_repository_size_bytes", Map.of("host", "web-1")).number());
    assertEquals(8_589_934_592.0,
        e.one("restic_manager_host_repository_uncompressed_size_bytes", Map.of("host", "web-1")).number());
    assertEquals(success + 800 - 42, e.one("restic_manager_host_repository_stats_timestamp_seconds",
        Map.of("host", "web-1")).number(), 0.001);
    for (String family : List.of("snapshots", "repository_size_bytes", "repository_uncompressed_size_bytes",
        "repository_stats_timestamp_seconds")) {
      assertEquals(List.of("web-1"),
          e.named("restic_manager_host_" + family).stream().map(s -> s.label("host")).toList(),
          "only the host whose agent sent repository.stats has " + family);
    }
  }

  @Test
  void histogramBucketsAreCumulativeAndInfEqualsCount() throws Exception {
    Exposition e = Exposition.parse(utf8(scrape(live, TOKEN)));
    Map<String, List<Exposition.Sample>> buckets = new HashMap<>();
    for (Exposition.Sample s : e.named("restic_manager_job_duration_seconds_bucket")) {
      buckets.computeIfAbsent(s.label("kind") + "/" + s.label("status"), k -> new ArrayList<>()).add(s);
    }
    assertEquals(JobKind.values().length * JobStatus.values().length, buckets.size());
    long fed = 0;
    for (Map.Entry<String, List<Exposition.Sample>> series : buckets.entrySet()) {
      String[] ks = series.getKey().split("/");
      Map<String, String> match = Map.of("kind", ks[0], "status", ks[1]);
      List<Exposition.Sample> rows = series.getValue();
      assertEquals(LE, rows.stream().map(s -> s.label("le")).toList(), series.getKey());
      double previous = 0;
      for (Exposition.Sample s : rows) {
        assertTrue(s.number() >= previous, "not cumulative: " + rows);
        previous = s.number();
      }
      double count = e.one("restic_manager_job_duration_seconds_count", match).number();
      double sum = e.one("restic_manager_job_duration_seconds_sum", match).number();
      assertEquals(count, rows.get(rows.size() - 1).number(), "+Inf must equal _count: " + series.getKey());
      assertTrue(Double.isFinite(sum) && sum >= 0, "sum " + sum);
      assertTrue(count > 0 || sum == 0, series.getKey());
      fed += (long) count;
    }
    assertTrue(fed >= 7, "the seven jobs fed at start: " + fed);
    // web-1's succeeded backup took 42 s: above the 30 s bucket, inside the 60 s one.
    Map<String, String> backupOk = Map.of("kind", "backup", "status", "succeeded");
    assertTrue(e.one("restic_manager_job_duration_seconds_bucket", with(backupOk, "le", "60.0")).number()
        > e.one("restic_manager_job_duration_seconds_bucket", with(backupOk, "le", "30.0")).number());
  }

  @Test
  void everyKindAndStatusSeriesAndEveryAlertKindExistFromStart() throws Exception {
    try (TestServer s = TestServer.start(dir, "", Map.of("RM_METRICS_TRUSTED_CIDR", "127.0.0.0/8"))) {
      Exposition e = Exposition.parse(utf8(scrape(s, null)));
      for (JobKind kind : JobKind.values()) {
        for (JobStatus status : JobStatus.values()) {
          Map<String, String> m = Map.of("kind", kind.wire(), "status", status.wire());
          assertEquals(0, e.one("restic_manager_job_duration_seconds_count", m).number());
          assertEquals(0, e.one("restic_manager_job_duration_seconds_sum", m).number());
          assertEquals(0, e.one("restic_manager_job_duration_seconds_bucket", with(m, "le", "+Inf")).number());
        }
      }
      assertEquals(Set.of("backup", "check", "forget", "prune", "restore"),
          new TreeSet<>(e.named("restic_manager_job_duration_seconds_count").stream().map(x -> x.label("kind")).toList()));
      for (AlertKind kind : AlertKind.values()) {
        Exposition.Sample a = e.one("restic_manager_alerts_open", Map.of("kind", kind.wire()));
        assertEquals(kind.severity().wire(), a.label("severity"));
        assertEquals(0, a.number());
      }
      assertEquals(0, e.one("restic_manager_hosts", Map.of("state", "online")).number());
      assertEquals(0, e.one("restic_manager_hosts", Map.of("state", "offline")).number());
      assertEquals(0, e.one("restic_manager_agents_connected", Map.of()).number());
      assertTrue(e.labelValues("host").isEmpty());
    }
  }

  // ---- cardinality ----------------------------------------------------------------------------

  @Test
  void aFloodOfJunkFramesAddsNoSeriesAndHostLabelsComeOnlyFromEnrolledHosts() throws Exception {
    TestAgent a = agent(live, "flood-1");
    Instant t = Instant.now().minusSeconds(600);
    a.runJob(UUID.randomUUID(), "backup", "succeeded", t, t.plusSeconds(5), 10);
    UUID open = UUID.randomUUID();
    a.send(TestAgent.started(open, "check", t));
    a.awaitFrame(f -> f.contains("\"ack\"") && f.contains(open.toString()), Duration.ofSeconds(10));
    Set<String> before = Exposition.parse(utf8(scrape(live, TOKEN))).seriesKeys();

    for (int i = 0; i < 100; i++) {
      UUID id = UUID.randomUUID();
      a.send("{\"type\":\"job.started\",\"job_id\":\"" + id + "\",\"kind\":\"junk-kind-" + i
          + "\",\"started_at\":\"" + t + "\"}");
      a.send("{\"type\":\"job.started\",\"job_id\":\"" + id + "\",\"kind\":\"backup\\\"} 1\\nevil_metric{x=\\\""
          + i + "\",\"started_at\":\"" + t + "\"}");
      a.send("{\"type\":\"job.finished\",\"job_id\":\"" + open + "\",\"status\":\"junk-status-" + i
          + "\",\"finished_at\":\"" + t.plusSeconds(1) + "\",\"exit_code\":0}");
      a.send("{\"type\":\"job.finished\",\"job_id\":\"" + id + "\",\"status\":\"succeeded\",\"finished_at\":\""
          + t.plusSeconds(1) + "\",\"exit_code\":0}");
      a.send("{\"type\":\"junk-type-" + i + "\",\"hostname\":\"evil-host-" + i + "\"}");
      a.send("{\"type\":\"job.started\",\"job_id\":\"not-a-uuid-" + i + "\",\"kind\":\"backup\",\"started_at\":\"x\"}");
      a.send("{not json " + i);
      a.send("[1,2,3]");
      a.send(TestAgent.hello("evil-host-" + i));
    }
    // Frames of one connection are handled in order: once this job is acked, every junk frame was seen.
    a.runJob(UUID.randomUUID(), "backup", "succeeded", t.plusSeconds(60), t.plusSeconds(65), 10);
    assertFalse(a.isClosed(), "an agent's bad frames must not close its connection");

    String body = utf8(scrape(live, TOKEN));
    Set<String> after = Exposition.parse(body).seriesKeys();
    assertEquals(before, after);
    assertFalse(body.contains("evil") || body.contains("junk-"), body);
    assertEquals(enrolledHostNames(live), Exposition.parse(body).labelValues("host"));
  }

  @Test
  void aRemovedHostsRowsVanish() throws Exception {
    TestServer.Enrolled e = live.enroll("doomed-1");
    TestAgent a = TestAgent.connectAndHello(live.wsUri(), e.agentToken(), "doomed-1");
    agents.add(a);
    Instant t = Instant.now().minusSeconds(300);
    a.runJob(UUID.randomUUID(), "backup", "failed", t, t.plusSeconds(3), 0);
    a.runJob(UUID.randomUUID(), "prune", "failed", t.plusSeconds(10), t.plusSeconds(13), 0);
    Exposition with = Exposition.parse(utf8(scrape(live, TOKEN)));
    assertEquals(1, with.one("restic_manager_host_online", Map.of("host", "doomed-1")).number());
    assertEquals(2, with.one("restic_manager_host_open_alerts", Map.of("host", "doomed-1")).number());
    assertTrue(with.seriesKeys().stream().filter(k -> k.contains("host=doomed-1")).count() >= 6);

    int deleted = live.admin("DELETE", "/api/v1/hosts/" + e.hostId(), null).statusCode();
    assertTrue(deleted == 200 || deleted == 204, "DELETE answered " + deleted);
    String body = utf8(scrape(live, TOKEN));
    assertFalse(body.contains("doomed-1"), body);
    Exposition without = Exposition.parse(body);
    double hostsBefore = with.named("restic_manager_hosts").stream().mapToDouble(Exposition.Sample::number).sum();
    double hostsAfter = without.named("restic_manager_hosts").stream().mapToDouble(Exposition.Sample::number).sum();
    assertEquals(hostsBefore - 1, hostsAfter);
    assertEquals(with.one("restic_manager_alerts_open", Map.of("kind", "prune_failed")).number() - 1,
        without.one("restic_manager_alerts_open", Map.of("kind", "prune_failed")).number());
    assertEquals(with.one("restic_manager_alerts_open", Map.of("kind", "backup_failed")).number() - 1,
        without.one("restic_manager_alerts_open", Map.of("kind", "backup_failed")).number());
    assertEquals(enrolledHostNames(live), without.labelValues("host"));
    assertEquals(1008, a.awaitClose(Duration.ofSeconds(10)));
  }

  // ---- load -----------------------------------------------------------------------------------

  @Test
  void fiftyConcurrentScrapesOverTheCapGetQuick503sAndTheServerStaysHealthy() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int bursts = 0;
    int refused = 0;
    while (refused == 0) {
      assertTrue(System.nanoTime() < deadline, "no scrape was refused in " + bursts + " bursts of 50");
      bursts++;
      List<CompletableFuture<Timed>> inFlight = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        long start = System.nanoTime();
        inFlight.add(http.sendAsync(request(live, TOKEN).build(), HttpResponse.BodyHandlers.ofByteArray())
            .thenApply(r -> new Timed(r, System.nanoTime() - start)));
      }
      for (CompletableFuture<Timed> f : inFlight) {
        Timed t = f.get(30, TimeUnit.SECONDS);
        int code = t.response().statusCode();
        assertTrue(code == 200 || code == 503, "status " + code);
        if (code == 503) {
          refused++;
          assertTrue(utf8(t.response()).contains("\"error\":\"unavailable\""), utf8(t.response()));
          assertTrue(t.nanos() < TimeUnit.SECONDS.toNanos(5), "a refusal must be quick: " + t.nanos() / 1e6 + " ms");
        } else {
          assertTrue(utf8(t.response()).contains("restic_manager_build_info"));
        }
      }
    }
    // Nothing leaked from the in-flight count: more sequential scrapes than the cap all succeed. A slot is
    // given back when the server sees its body end, which on a loaded machine can come a moment after the
    // client has read it; so each scrape may wait for that, but a leaked slot would never come back.
    for (int i = 0; i < MAX_IN_FLIGHT * 3; i++) {
      Await.until(Duration.ofSeconds(10), () -> scrape(live, TOKEN).statusCode() == 200);
    }
    assertEquals(200, send(live, HttpRequest.newBuilder(live.uri("/healthz"))).statusCode());
  }

  private record Timed(HttpResponse<byte[]> response, long nanos) {}

  // ---- helpers --------------------------------------------------------------------------------

  private static Map<String, String> with(Map<String, String> m, String k, String v) {
    Map<String, String> out = new HashMap<>(m);
    out.put(k, v);
    return out;
  }

  private static Set<String> plainKeys(HttpResponse<byte[]> r) {
    return Exposition.parse(utf8(r)).seriesKeys();
  }

  private static Set<String> enrolledHostNames(TestServer s) throws Exception {
    HttpResponse<String> r = s.admin("GET", "/api/v1/hosts", null);
    assertEquals(200, r.statusCode(), r.body());
    Set<String> names = new TreeSet<>();
    Matcher m = HOST_NAME.matcher(r.body());
    while (m.find()) names.add(m.group(1));
    return names;
  }

  private static HttpRequest.Builder request(TestServer s) {
    return HttpRequest.newBuilder(s.uri("/metrics")).timeout(Duration.ofSeconds(20));
  }

  private static HttpRequest.Builder request(TestServer s, String bearer) {
    HttpRequest.Builder b = request(s);
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return b;
  }

  private static HttpResponse<byte[]> scrape(TestServer s, String bearer) throws Exception {
    return send(s, request(s, bearer));
  }

  private static HttpResponse<byte[]> send(TestServer s, HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String utf8(HttpResponse<byte[]> r) {
    return new String(r.body(), UTF_8);
  }

  private static String gunzip(byte[] bytes) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  /** A GET /metrics written byte for byte, so repeated header lines reach the server as separate lines. */
  private static int rawStatus(TestServer s, String... headerLines) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", s.port())) {
      socket.setSoTimeout(20_000);
      StringBuilder req = new StringBuilder("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
      for (String h : headerLines) req.append(h).append("\r\n");
      req.append("\r\n");
      socket.getOutputStream().write(req.toString().getBytes(UTF_8));
      socket.getOutputStream().flush();
      String response = new String(socket.getInputStream().readAllBytes(), UTF_8);
      String[] status = response.split("\r\n", 2)[0].split(" ");
      return Integer.parseInt(status[1]);
    }
  }
}
