package io.resticmanager.deploy;

import static io.resticmanager.deploy.Prometheus.labels;
import static io.resticmanager.deploy.Prometheus.list;
import static io.resticmanager.deploy.Prometheus.number;
import static io.resticmanager.deploy.Prometheus.poll;
import static io.resticmanager.deploy.Prometheus.value;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The shipped dashboard and alert rules against the real thing (issue 5, item 4): a real server fed by
 * WebSocket agents on several hosts, scraped every second by the Debian {@code prometheus} binary on
 * loopback with the bearer token from a {@code credentials_file}, with the shipped rules loaded. Every
 * panel expression must return data through Prometheus's query API (the repository row's from the
 * agents' {@code repository.stats}), every metric name the dashboard uses must be in a live
 * {@code /metrics} body, and every rule must load and evaluate healthy.
 *
 * <p>All of it runs twice (issue 12, item 4): against a plain HTTP listener, and against an HTTPS one
 * (a certificate from a test CA; agents over wss) that Prometheus scrapes with {@code scheme: https}
 * and that CA as {@code tls_config.ca_file}. There a second scrape job trusting another CA must stay
 * down with a certificate error, so the first one's data cannot have come from an unverified scrape.
 *
 * <p>Prometheus is started on first use by a test that needs it; without the binary those tests skip
 * (or fail under {@code RM_REQUIRE_TOOLS=1}), while the structural check still runs.
 */
@ParameterizedClass
@EnumSource(PrometheusLiveIT.Listener.class)
class PrometheusLiveIT {
  /** How the server listens, and how Prometheus is told to scrape it. */
  enum Listener {
    HTTP("http"),
    HTTPS("https");

    final String scheme;

    Listener(String scheme) {
      this.scheme = scheme;
    }
  }

  private static final String JOB = "restic-manager";
  /** The HTTPS variant's second job, whose ca_file is another CA; outside the rules' job=~"restic-manager.*". */
  private static final String UNTRUSTING_JOB = "another-ca";
  private static final String TOKEN = "live-prometheus-token-0123456789";
  /** Small enough that two 1 s scrapes around a batch of jobs show as a rate. */
  private static final String RATE_INTERVAL = "10s";
  private static final Path DOC = Path.of("docs", "prometheus.md");
  private static final Pattern PROMQL_BLOCK = Pattern.compile("```promql\n(.*?)```", Pattern.DOTALL);
  private static final String ODD_AGENT_VERSION_JSON = "2.0 \\\"rc\\\" \\\\ nightly";
  private static final String ODD_AGENT_VERSION = "2.0 \"rc\" \\ nightly";
  private static final String ODD_OS_JSON = "Linux\\nDebian ünï";
  private static final String ODD_OS = "Linux\nDebian ünï";

  @TempDir static Path root;

  @Parameter Listener listener;

  // One listener's fleet and Prometheus at a time: set up before its tests, torn down after them.
  private static Path dir;
  private static TestServer server;
  private static final List<TestAgent> agents = new ArrayList<>();
  private static long jobsFed;
  private static Prometheus prometheus;
  /** HTTPS: the CA that signed the server's certificate, and one that did not. Null for HTTP. */
  private static Path caFile;
  private static Path otherCaFile;

  @BeforeParameterizedClassInvocation
  static void startServerWithAFleet(Listener listener) throws Exception {
    dir = Files.createDirectories(root.resolve(listener.scheme));
    Path serverToken = Files.writeString(dir.resolve("server-metrics.token"), TOKEN + "\n");
    Map<String, String> env = new HashMap<>(Map.of("RM_METRICS_TOKEN_FILE", serverToken.toString()));
    if (listener == Listener.HTTPS) {
      TestCerts ca = TestCerts.authority(dir.resolve("certs"), "scrape");
      TestCerts.Pair pair = ca.server(TestCerts.Alg.EC);
      env.put("RM_TLS_CERT_FILE", pair.cert().toString());
      env.put("RM_TLS_KEY_FILE", pair.key().toString());
      caFile = ca.caCert();
      otherCaFile = TestCerts.authority(dir.resolve("certs"), "other").caCert();
    }
    server = TestServer.start(dir.resolve("server"), "", env);
    Instant now = Instant.now();
    TestAgent alpha = agent("alpha");
    TestAgent bravo = agent("bravo");
    TestAgent charlie = agent("charlie");
    job(alpha, "backup", "succeeded", now.minusSeconds(3600), 42, 10_000_000);
    job(alpha, "check", "succeeded", now.minusSeconds(3000), 600, 0);
    job(alpha, "forget", "succeeded", now.minusSeconds(2900), 3, 0);
    job(bravo, "backup", "succeeded", now.minusSeconds(7200), 130, 2_500_000);
    job(bravo, "backup", "failed", now.minusSeconds(600), 12, 0);
    job(bravo, "prune", "succeeded", now.minusSeconds(500), 1500, 0);
    job(charlie, "backup", "warning", now.minusSeconds(900), 300, 123_456);
    job(charlie, "check", "failed", now.minusSeconds(800), 20, 0);
    // Repository statistics from the three agents; delta's, like an agent older than repository.stats, never come.
    alpha.send(TestAgent.repositoryStats(now.minusSeconds(2800), 42, 1_234_567_890L, 2_345_678_901L));
    bravo.send(TestAgent.repositoryStats(now.minusSeconds(400), 7, 987_654_321L, null));
    charlie.send(TestAgent.repositoryStats(now.minusSeconds(800), 130, 55_555_555_555L, null));
    Await.until(Duration.ofSeconds(10), () -> server.get("/metrics", TOKEN).body()
        .split("restic_manager_host_repository_stats_timestamp_seconds\\{", -1).length == 4);
    // A host whose agent reports awkward versions: Prometheus must read the escaped labels back exactly.
    TestServer.Enrolled delta = server.enroll("delta");
    TestAgent odd = TestAgent.connect(server.wsUri(), delta.agentToken(), server.api().tls());
    agents.add(odd);
    odd.send("{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"" + ODD_AGENT_VERSION_JSON
        + "\",\"restic_version\":\"0.17.3\",\"hostname\":\"delta\",\"os\":\"" + ODD_OS_JSON + "\"}");
    odd.awaitFrame(f -> f.contains("\"welcome\""), Duration.ofSeconds(10));
  }

  @AfterParameterizedClassInvocation
  static void stopEverything() {
    try {
      if (prometheus != null) prometheus.close();
    } finally {
      agents.forEach(TestAgent::close);
      if (server != null) server.close();
      prometheus = null;
      agents.clear();
      server = null;
      jobsFed = 0;
      caFile = null;
      otherCaFile = null;
    }
  }

  @Test
  void everyMetricNameTheDashboardUsesIsInALiveMetricsBody() throws Exception {
    HttpResponse<String> r = server.get("/metrics", TOKEN);
    assertEquals(200, r.statusCode());
    Set<String> live = Exposition.parse(r.body()).names();
    Set<String> used = Dashboard.metricNamesUsed();
    assertFalse(used.isEmpty());
    Set<String> missing = new TreeSet<>(used);
    missing.removeAll(live);
    assertTrue(missing.isEmpty(), "the dashboard reads " + missing + ", which /metrics does not expose:\n" + r.body());
  }

  @Test
  void prometheusScrapesTheServerWithTheTokenFromItsCredentialsFile() throws Exception {
    Prometheus p = prometheus();
    List<Map<String, Object>> up = p.vector("up{job=\"" + JOB + "\"}");
    assertEquals(1, up.size(), up.toString());
    assertEquals("1", value(up.get(0)));
    assertEquals(instance(), labels(up.get(0)).get("instance"));
    Map<String, Object> target = p.target(JOB);
    assertEquals("up", target.get("health"), target.toString());
    assertEquals("", target.get("lastError"), target.toString());
    assertEquals(listener.scheme + "://" + instance() + "/metrics", target.get("scrapeUrl"), target.toString());
  }

  @Test
  void overHttpsAJobTrustingAnotherCaIsRefusedTheServersCertificate() throws Exception {
    Assumptions.assumeTrue(listener == Listener.HTTPS, "only an HTTPS listener has a certificate to refuse");
    Prometheus p = prometheus();
    assertTrue(poll(() -> "down".equals(p.target(UNTRUSTING_JOB).get("health"))),
        "the job trusting another CA is not down: " + p.target(UNTRUSTING_JOB));
    String error = (String) p.target(UNTRUSTING_JOB).get("lastError");
    assertTrue(error.contains("x509: certificate signed by unknown authority"), error);
    assertEquals("0", p.scalarOf("up{job=\"" + UNTRUSTING_JOB + "\"}"));
  }

  @Test
  void everyMetricNameTheDashboardUsesIsStoredInPrometheus() throws Exception {
    Prometheus p = prometheus();
    Map<String, Object> reply = p.api("/api/v1/label/__name__/values");
    Set<String> stored = new TreeSet<>();
    for (Object name : list(reply.get("data"))) stored.add((String) name);
    Set<String> missing = new TreeSet<>(Dashboard.metricNamesUsed());
    missing.removeAll(stored);
    assertTrue(missing.isEmpty(), "not in Prometheus: " + missing + "; stored: " + stored);
  }

  @Test
  void theJobAndInstanceVariablesFindThisServer() throws Exception {
    Prometheus p = prometheus();
    List<Map<String, Object>> info = p.vector("restic_manager_build_info");
    assertEquals(1, info.size(), info.toString());
    assertEquals(JOB, labels(info.get(0)).get("job"));
    assertEquals(instance(), labels(info.get(0)).get("instance"));
  }

  @Test
  void escapedLabelValuesReachPrometheusUnchanged() throws Exception {
    Prometheus p = prometheus();
    List<Map<String, Object>> info = p.vector("restic_manager_host_info{host=\"delta\"}");
    assertEquals(1, info.size(), info.toString());
    assertEquals(ODD_AGENT_VERSION, labels(info.get(0)).get("agent_version"));
    assertEquals(ODD_OS, labels(info.get(0)).get("os"));
  }

  @Test
  void everyDashboardPanelExpressionReturnsDataFromPrometheus() throws Exception {
    Prometheus p = prometheus();
    List<String> empty = new ArrayList<>();
    int checked = 0;
    for (Dashboard.Query q : Dashboard.queries()) {
      String expr = q.resolve(JOB, instance(), RATE_INTERVAL);
      List<Double> values = new ArrayList<>();
      if (q.instant()) {
        for (Map<String, Object> sample : p.vector(expr)) values.add(number(value(sample)));
      } else {
        for (Map<String, Object> series : p.matrix(expr, Duration.ofSeconds(60))) {
          for (Object point : list(series.get("values"))) values.add(number((String) list(point).get(1)));
        }
      }
      boolean hasData = values.stream().anyMatch(v -> !v.isNaN() && !v.isInfinite());
      if (q.extrapolates()) hasData = values.stream().anyMatch(v -> !v.isNaN() && !v.isInfinite() && v > 0);
      if (!hasData) empty.add("panel " + q.panelId() + " \"" + q.panelTitle() + "\" " + q.refId() + ": " + expr
          + " -> " + values);
      checked++;
    }
    assertEquals(Dashboard.queries().size(), checked);
    assertTrue(empty.isEmpty(), "panels without data:\n" + String.join("\n", empty) + "\n" + p.logTail());
  }

  @Test
  void everyExampleQueryInTheDocsRunsAgainstPrometheus() throws Exception {
    Prometheus p = prometheus();
    String doc = Files.readString(Dashboard.repoRoot().resolve(DOC), UTF_8);
    Matcher block = PROMQL_BLOCK.matcher(doc);
    assertTrue(block.find(), "no ```promql block in " + DOC);
    List<String> examples = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : (block.group(1) + "\n").split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        if (current.length() > 0) examples.add(current.toString().strip());
        current.setLength(0);
      } else {
        current.append(line.strip()).append(' ');
      }
    }
    assertTrue(examples.size() >= 5, examples.toString());
    List<String> silent = new ArrayList<>();
    for (String expr : examples) {
      // Each must parse and evaluate; those about a healthy fleet's problems may rightly be empty.
      List<Map<String, Object>> result = p.vector(expr);
      if (result.isEmpty() && !expr.contains("== 0") && !expr.contains("unless") && !expr.contains(" > on")) {
        silent.add(expr);
      }
    }
    assertTrue(silent.isEmpty(), "examples without data on a fed fleet: " + silent);
  }

  @Test
  void theShippedAlertRulesLoadAndEvaluateHealthy() throws Exception {
    assertEquals(15, Prometheus.shippedAlertNames().size(), Prometheus.shippedAlertNames().toString());
    prometheus().assertRulesHealthy();
  }

  /** The server's address as Prometheus's target, and so its {@code instance} label. */
  private static String instance() {
    return "127.0.0.1:" + server.port();
  }

  // ---- the fleet ------------------------------------------------------------------------------

  private static TestAgent agent(String hostname) throws Exception {
    TestServer.Enrolled e = server.enroll(hostname);
    TestAgent a = TestAgent.connectAndHello(server.wsUri(), e.agentToken(), hostname, server.api().tls());
    agents.add(a);
    return a;
  }

  private static void job(TestAgent a, String kind, String status, Instant end, long seconds, long dataAdded)
      throws InterruptedException {
    a.runJob(UUID.randomUUID(), kind, status, end.minusSeconds(seconds), end, dataAdded);
    jobsFed++;
  }

  /**
   * Starts Prometheus once, waits until it has scraped the first batch, then feeds a second batch and
   * waits until Prometheus has scraped that too, so every rate panel has an increase inside its window.
   */
  private static synchronized Prometheus prometheus() throws Exception {
    if (prometheus != null) return prometheus;
    Path token = Files.writeString(dir.resolve("prometheus-credentials"), TOKEN + "\n");
    List<Prometheus.ScrapeJob> jobs = new ArrayList<>();
    jobs.add(new Prometheus.ScrapeJob(JOB, List.of(instance()), token, caFile));
    if (caFile != null) jobs.add(new Prometheus.ScrapeJob(UNTRUSTING_JOB, List.of(instance()), token, otherCaFile));
    prometheus = Prometheus.start(dir.resolve("prometheus"), jobs);
    Prometheus p = prometheus;
    assertTrue(poll(() -> "1".equals(p.scalarOf("up{job=\"" + JOB + "\"}"))),
        "the target never came up: " + p.api("/api/v1/targets") + "\n" + p.logTail());
    awaitJobsScraped(p);

    Instant now = Instant.now();
    TestAgent alpha = agents.get(0);
    TestAgent bravo = agents.get(1);
    TestAgent charlie = agents.get(2);
    job(alpha, "backup", "succeeded", now, 55, 20_000_000);
    job(alpha, "check", "succeeded", now, 700, 0);
    job(bravo, "backup", "succeeded", now, 90, 3_000_000);
    job(bravo, "forget", "failed", now, 2, 0);
    job(charlie, "backup", "warning", now, 240, 456_789);
    job(charlie, "prune", "cancelled", now, 3000, 0);
    awaitJobsScraped(p);
    return p;
  }

  private static void awaitJobsScraped(Prometheus p) throws Exception {
    String expr = "sum(restic_manager_job_duration_seconds_count{job=\"" + JOB + "\"})";
    long want = jobsFed;
    assertTrue(poll(() -> String.valueOf(want).equals(p.scalarOf(expr))),
        "Prometheus never saw " + want + " jobs; it says " + p.scalarOf(expr) + "\n" + p.logTail());
  }
}
