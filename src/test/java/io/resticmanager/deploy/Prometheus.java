package io.resticmanager.deploy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * The Debian {@code prometheus} binary for integration tests: one process on a free loopback port with its
 * own storage, scraping the given jobs every second with the shipped alert rules loaded, and the parts of
 * its HTTP API those tests read. Started by {@link #start}, which skips the calling test when the binary is
 * missing (fails under {@code RM_REQUIRE_TOOLS=1}); killed by {@link #close()}.
 *
 * <p>Query results are plain Java values ({@link Dashboard#toJava}): a vector sample is a map with
 * {@code metric} (its labels) and {@code value} ({@code [time, "value"]}).
 */
final class Prometheus implements AutoCloseable {
  static final Path RULES = Path.of("deploy", "prometheus", "restic-manager-rules.yml");
  static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final Pattern ALERT_NAME = Pattern.compile("(?m)^\\s*- alert:\\s*(\\S+)\\s*$");
  private static final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * One scrape job with a bearer token from {@code credentials}: over plain HTTP when {@code caFile} is null,
   * else over HTTPS trusting that CA.
   */
  record ScrapeJob(String name, List<String> targets, Path credentials, Path caFile) {
    String yaml() {
      String targetList = targets.stream().map(t -> "'" + t + "'").collect(Collectors.joining(", "));
      return """
            - job_name: %s
              metrics_path: /metrics
              scheme: %s
              authorization:
                type: Bearer
                credentials_file: %s
              static_configs:
                - targets: [%s]
          """.formatted(name, caFile == null ? "http" : "https", credentials, targetList)
          + (caFile == null ? "" : """
              tls_config:
                ca_file: %s
          """.formatted(caFile));
    }
  }

  final String base;
  private final Process process;
  private final Path log;

  private Prometheus(String base, Process process, Path log) {
    this.base = base;
    this.process = process;
    this.log = log;
  }

  /** Starts Prometheus in {@code home} and waits until it is ready. */
  static Prometheus start(Path home, List<ScrapeJob> jobs) throws Exception {
    Path binary = Tools.executable("prometheus");
    Files.createDirectories(home.resolve("data"));
    StringBuilder config = new StringBuilder("""
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        rule_files:
          - %s
        scrape_configs:
        """.formatted(Dashboard.repoRoot().resolve(RULES)));
    jobs.forEach(j -> config.append(j.yaml()));
    Path configFile = Files.writeString(home.resolve("prometheus.yml"), config);
    int port = TestServer.freePort();
    Path log = home.resolve("prometheus.log");
    Process process = new ProcessBuilder(binary.toString(),
        "--config.file=" + configFile,
        "--storage.tsdb.path=" + home.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port,
        "--web.console.templates=" + home.resolve("consoles"),
        "--web.console.libraries=" + home.resolve("console_libraries"))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    Prometheus p = new Prometheus("http://127.0.0.1:" + port, process, log);
    try {
      assertTrue(poll(() -> {
        if (!process.isAlive()) throw new AssertionError("prometheus exited:\n" + p.logTail());
        return p.status("/-/ready") == 200;
      }), "prometheus never became ready:\n" + p.logTail());
    } catch (Exception | AssertionError e) {
      p.close();
      throw e;
    }
    return p;
  }

  /** The active target of scrape job {@code job}; fails unless there is exactly one. */
  Map<String, Object> target(String job) throws Exception {
    List<Map<String, Object>> found = new ArrayList<>();
    for (Object t : list(map(api("/api/v1/targets?state=active").get("data")).get("activeTargets"))) {
      if (job.equals(map(map(t).get("labels")).get("job"))) found.add(map(t));
    }
    assertEquals(1, found.size(), "targets of job " + job + ": " + found);
    return found.get(0);
  }

  int status(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  Map<String, Object> api(String pathAndQuery) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), pathAndQuery + " -> " + r.body());
    Map<String, Object> reply = map(Dashboard.toJava(JsonParser.apply(ParserInput.apply(r.body()))));
    assertEquals("success", reply.get("status"), r.body());
    return reply;
  }

  /** An instant query's vector, evaluated now; fails on any other result type. */
  List<Map<String, Object>> vector(String expr) throws Exception {
    return vector(expr, "");
  }

  /** An instant query's vector evaluated at {@code epochMillis}, as Grafana evaluates each step. */
  List<Map<String, Object>> vectorAt(String expr, long epochMillis) throws Exception {
    return vector(expr, "&time=" + seconds(epochMillis));
  }

  private List<Map<String, Object>> vector(String expr, String time) throws Exception {
    Map<String, Object> data = map(api("/api/v1/query?query=" + URLEncoder.encode(expr, UTF_8) + time).get("data"));
    assertEquals("vector", data.get("resultType"), expr);
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : list(data.get("result"))) out.add(map(o));
    return out;
  }

  /** A range query over the last {@code span}, one step a second, as a Grafana time series panel runs it. */
  List<Map<String, Object>> matrix(String expr, Duration span) throws Exception {
    // The last step must be now, to the millisecond: the newest scrape may be younger than a second,
    // and a rate window ending before it holds only one sample.
    long now = System.currentTimeMillis();
    Map<String, Object> data = map(api("/api/v1/query_range?query=" + URLEncoder.encode(expr, UTF_8)
        + "&start=" + seconds(now - span.toMillis()) + "&end=" + seconds(now) + "&step=1").get("data"));
    assertEquals("matrix", data.get("resultType"), expr);
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : list(data.get("result"))) out.add(map(o));
    return out;
  }

  /** The value of a one-element vector, or null when the result is empty. */
  String scalarOf(String expr) throws Exception {
    List<Map<String, Object>> v = vector(expr);
    return v.size() == 1 ? value(v.get(0)) : null;
  }

  /** The alert names of the shipped rules file. */
  static Set<String> shippedAlertNames() throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher m = ALERT_NAME.matcher(Files.readString(Dashboard.repoRoot().resolve(RULES), UTF_8));
    while (m.find()) names.add(m.group(1));
    return names;
  }

  /** Waits until every shipped rule is loaded and evaluates healthy; fails with what was loaded and why not. */
  void assertRulesHealthy() throws Exception {
    Set<String> expected = shippedAlertNames();
    assertFalse(expected.isEmpty(), "no alert in " + RULES);
    List<String> problems = new ArrayList<>();
    Set<String> loaded = new TreeSet<>();
    boolean healthy = poll(() -> {
      problems.clear();
      loaded.clear();
      for (Object g : list(map(api("/api/v1/rules").get("data")).get("groups"))) {
        for (Object r : list(map(g).get("rules"))) {
          Map<String, Object> rule = map(r);
          loaded.add((String) rule.get("name"));
          Object error = rule.get("lastError");
          if (!"ok".equals(rule.get("health")) || (error != null && !"".equals(error))) {
            problems.add(rule.get("name") + ": health " + rule.get("health") + " " + error);
          }
        }
      }
      return loaded.equals(expected) && problems.isEmpty();
    });
    assertTrue(healthy, "rules loaded " + loaded + " (expected " + expected + "), problems " + problems);
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, UTF_8);
      return "--- prometheus log ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no prometheus log: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(15, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  // ---- reading the API's answers ---------------------------------------------------------------

  /** Polls {@code condition} every 200 ms until it holds or {@link #PATIENCE} has passed. */
  static boolean poll(Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      if (condition.call()) return true;
      if (System.nanoTime() > deadline) return false;
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> labels(Map<String, Object> sample) {
    return (Map<String, String>) (Map<?, ?>) sample.get("metric");
  }

  /** A vector sample's value: Prometheus sends {@code [time, "value"]}. */
  static String value(Map<String, Object> sample) {
    return (String) list(sample.get("value")).get(1);
  }

  static double number(String s) {
    return switch (s) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> new BigDecimal(s).doubleValue();
    };
  }

  private static String seconds(long epochMillis) {
    return String.format(Locale.ROOT, "%.3f", epochMillis / 1000.0);
  }
}
