package io.resticmanager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus side of deploy/: promtool must accept the alert rules, pass their unit tests and
 * accept the example prometheus.yml (its HTTPS job, and the plain HTTP job it shows commented out);
 * every dashboard expression must parse as PromQL. Tests that run promtool skip when it is not
 * installed, unless RM_REQUIRE_TOOLS=1 (CI), where they fail. The structural checks of the rules file
 * need no tool and always run.
 */
class PromtoolRulesTest {
  private static final Path RULES = Path.of("deploy", "prometheus", "restic-manager-rules.yml");
  private static final Path RULE_TESTS = Path.of("deploy", "prometheus", "restic-manager-rules_test.yml");
  private static final Path CONFIG = Path.of("deploy", "prometheus", "prometheus.yml");
  private static final String CONFIG_RULES_PATH = "/etc/prometheus/rules/restic-manager-rules.yml";
  private static final String CONFIG_TOKEN_PATH = "/etc/prometheus/restic-manager.token";
  private static final long TIMEOUT_SECONDS = 300;

  @Test
  void rulesFilePassesPromtoolCheck() throws Exception {
    Result r = promtool("check", "rules", RULES.toString());
    assertEquals(0, r.exitCode(), r.output());
  }

  @Test
  void ruleUnitTestsPass() throws Exception {
    Result r = promtool("test", "rules", RULE_TESTS.toString());
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void exampleScrapeConfigPassesPromtoolCheck(@TempDir Path dir) throws Exception {
    String config = read(CONFIG);
    assertTrue(config.contains("    scheme: https\n    tls_config:\n") && config.contains("      ca_file: "),
        "the example scrapes over HTTPS trusting a CA file:\n" + config);
    assertPromtoolAccepts(dir, config);
  }

  @Test
  void examplePlainHttpAlternativeUncommentedPassesPromtoolCheck(@TempDir Path dir) throws Exception {
    String config = read(CONFIG);
    String scrapeConfigs = "scrape_configs:\n";
    String plain = config.substring(0, config.indexOf(scrapeConfigs) + scrapeConfigs.length()) + plainJob(config);
    assertTrue(plain.contains("    scheme: http\n") && plain.contains("['127.0.0.1:8080']"), plain);
    assertPromtoolAccepts(dir, plain);
  }

  /** The example's commented-out plain HTTP job, uncommented. */
  private static String plainJob(String config) {
    int start = config.indexOf("  # - job_name: restic-manager\n");
    assertTrue(start >= 0, "no commented plain HTTP job in " + CONFIG);
    StringBuilder job = new StringBuilder();
    for (String line : config.substring(start).split("\n")) {
      if (!line.startsWith("  # ")) break;
      job.append("  ").append(line.substring("  # ".length())).append('\n');
    }
    return job.toString();
  }

  /** {@code promtool check config} on {@code config} must pass and load the rules file. */
  private static void assertPromtoolAccepts(Path dir, String config) throws Exception {
    // promtool insists that the rule and credentials files exist: point them at real ones.
    assertTrue(config.contains(CONFIG_RULES_PATH) && config.contains(CONFIG_TOKEN_PATH), config);
    Path token = Files.writeString(dir.resolve("restic-manager.token"), "not-a-real-token\n");
    String adjusted = config
        .replace(CONFIG_RULES_PATH, root().resolve(RULES).toString())
        .replace(CONFIG_TOKEN_PATH, token.toString());
    Path copy = Files.writeString(dir.resolve("prometheus.yml"), adjusted);

    Result r = promtool("check", "config", copy.toString());
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("SUCCESS: 15 rules found"), "the config must load the rules file:\n" + r.output());
  }

  @Test
  void everyDashboardExpressionParsesAsPromql(@TempDir Path dir) throws Exception {
    // Recording rules are the one place promtool parses arbitrary PromQL offline.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    for (Dashboard.Query q : Dashboard.queries()) {
      String expr = q.resolve(".+", ".+", "1m");
      rules.append("      - record: panel").append(q.panelId()).append('_').append(q.refId()).append('\n')
          .append("        expr: '").append(expr.replace("'", "''")).append("'\n");
    }
    Path file = Files.writeString(dir.resolve("dashboard-exprs.yml"), rules.toString());

    Result r = promtool("check", "rules", file.toString());
    assertEquals(0, r.exitCode(), rules + "\n" + r.output());
  }

  @Test
  void everyAlertRuleHasForSeveritySummaryAndDescription() {
    Map<String, String> rules = alertRules();
    assertTrue(rules.size() >= 10, "rules: " + rules.keySet());
    for (Map.Entry<String, String> rule : rules.entrySet()) {
      String body = rule.getValue();
      for (String key : List.of("expr:", "for:", "severity:", "summary:", "description:")) {
        assertTrue(body.contains(key), rule.getKey() + " lacks " + key);
      }
      assertTrue(body.matches("(?s).*severity: (warning|critical)\\n.*"), rule.getKey() + " severity");
      if (body.contains("restic_manager_host_")) {
        Matcher summary = Pattern.compile("summary: (.*)").matcher(body);
        assertTrue(summary.find() && summary.group(1).contains("{{ $labels.host }}"),
            rule.getKey() + " is about a host but its summary does not name it");
      }
    }
  }

  @Test
  void everyAlertRuleIsShownFiringAndNotFiringInTheUnitTests() {
    Set<String> firing = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    String current = null;
    for (String line : read(RULE_TESTS).split("\n")) {
      String t = line.strip();
      if (t.startsWith("alertname:")) current = t.substring("alertname:".length()).strip();
      if (t.startsWith("exp_alerts:") && current != null) {
        (t.endsWith("[]") ? quiet : firing).add(current);
        current = null;
      }
    }
    Set<String> names = alertRules().keySet();
    Set<String> neverFiring = new TreeSet<>(names);
    neverFiring.removeAll(firing);
    Set<String> neverQuiet = new TreeSet<>(names);
    neverQuiet.removeAll(quiet);
    assertEquals(Set.of(), neverFiring, "rules without a firing case");
    assertEquals(Set.of(), neverQuiet, "rules without a not-firing case");
  }

  @Test
  void rulesReadOnlyContractMetricsAndUp() {
    Set<String> unknown = new TreeSet<>();
    for (String body : alertRules().values()) {
      Matcher expr = Pattern.compile("(?s)expr: (.*?)\\n {8}for:").matcher(body);
      assertTrue(expr.find(), body);
      unknown.addAll(Dashboard.metricNamesIn(expr.group(1).replace(">-", "")));
    }
    unknown.removeAll(ContractMetrics.seriesNames());
    unknown.remove("up");
    assertEquals(Set.of(), unknown);
  }

  // --- helpers ---------------------------------------------------------------------------

  /** Alert name to the text of its rule, in file order. */
  private static Map<String, String> alertRules() {
    Map<String, String> rules = new LinkedHashMap<>();
    String[] blocks = read(RULES).split("\\n(?= {6}- alert: )");
    for (String block : blocks) {
      Matcher name = Pattern.compile("^ {6}- alert: (\\S+)").matcher(block);
      if (name.find()) rules.put(name.group(1), block.replaceAll("\\n {2}- name: .*", "") + "\n");
    }
    return rules;
  }

  private record Result(int exitCode, String output) {}

  private static Result promtool(String... args) throws IOException, InterruptedException {
    Path promtool = findTool("promtool");
    List<String> command = new ArrayList<>();
    command.add(promtool.toString());
    command.addAll(List.of(args));
    File log = File.createTempFile("promtool", ".log");
    try {
      Process p = new ProcessBuilder(command)
          .directory(root().toFile())
          .redirectErrorStream(true)
          .redirectOutput(log)
          .start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s:\n"
            + Files.readString(log.toPath()));
      }
      String output = "$ " + String.join(" ", command) + "\n" + Files.readString(log.toPath());
      return new Result(p.exitValue(), output);
    } finally {
      Files.deleteIfExists(log.toPath());
    }
  }

  /** The tool on PATH; skips the test when missing, unless RM_REQUIRE_TOOLS=1, where it fails. */
  static Path findTool(String name) {
    Optional<Path> found = Optional.ofNullable(System.getenv("PATH")).stream()
        .flatMap(path -> List.of(path.split(File.pathSeparator)).stream())
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, name))
        .filter(Files::isExecutable)
        .findFirst();
    if (found.isEmpty()) {
      String message = name + " is not on PATH (Debian: apt-get install prometheus)";
      if ("1".equals(System.getenv("RM_REQUIRE_TOOLS"))) fail(message + " and RM_REQUIRE_TOOLS=1");
      Assumptions.abort(message + "; skipping");
    }
    return found.get();
  }

  private static Path root() {
    return Dashboard.repoRoot();
  }

  private static String read(Path relative) {
    try {
      return Files.readString(root().resolve(relative), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
