package io.resticmanager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.deploy.Dashboard.Query;
import io.resticmanager.deploy.Dashboard.Selector;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structural lint of deploy/grafana/restic-manager-dashboard.json: what Grafana 11 needs to import
 * it anywhere, and the PromQL habits that keep its panels right. Whether the expressions return
 * data is an integration test's job; {@link #metricNamesUsed()} is what it checks against /metrics.
 */
class DashboardLintTest {
  private static final String DATASOURCE_UID = "${datasource}";
  private static final Set<String> PANEL_TYPES = Set.of("timeseries", "stat", "table", "bargauge");
  private static final String JOB_MATCHER = "job=~\"$job\"";
  private static final String INSTANCE_MATCHER = "instance=~\"$instance\"";

  private static Map<String, Object> dashboard;
  private static List<Map<String, Object>> panels;
  private static List<Query> queries;

  @BeforeAll
  static void load() {
    dashboard = Dashboard.json();
    panels = Dashboard.panels();
    queries = Dashboard.queries();
  }

  /** The metric names the dashboard's panels read; an integration test requires each in a live /metrics body. */
  public static Set<String> metricNamesUsed() {
    return Dashboard.metricNamesUsed();
  }

  @Test
  void schemaVersionIs39SoEveryGrafana11Imports() {
    assertEquals(new BigDecimal(39), dashboard.get("schemaVersion"));
  }

  @Test
  void uidIsFixedSoLinksAndProvisioningSurviveReimport() {
    assertEquals("restic-manager", dashboard.get("uid"));
    assertTrue(((String) dashboard.get("uid")).matches("[A-Za-z0-9_-]{1,40}"), "Grafana uids are at most 40 safe characters");
  }

  @Test
  void idIsNullSoImportCreatesRatherThanOverwrites() {
    assertTrue(dashboard.containsKey("id"), "id must be present and null");
    assertNull(dashboard.get("id"));
  }

  @Test
  void exactlyOneDatasourceVariableChoosesAmongPrometheusSources() {
    List<Map<String, Object>> dsVars = variables().stream()
        .filter(v -> "datasource".equals(v.get("type"))).toList();
    assertEquals(1, dsVars.size(), "datasource variables: " + dsVars);
    assertEquals("datasource", dsVars.get(0).get("name"));
    assertEquals("prometheus", dsVars.get(0).get("query"));
  }

  @Test
  void jobAndInstanceVariablesComeFromBuildInfoThroughTheDatasourceVariable() {
    Map<String, Map<String, Object>> byName = variables().stream()
        .collect(Collectors.toMap(v -> (String) v.get("name"), v -> v));
    for (String name : List.of("job", "instance")) {
      Map<String, Object> v = byName.get(name);
      assertNotNull(v, "missing variable " + name);
      assertEquals("query", v.get("type"), name);
      assertDatasourceVariable(v.get("datasource"), "variable " + name);
      String query = variableQuery(v);
      assertTrue(query.startsWith("label_values(restic_manager_build_info"), name + ": " + query);
      assertTrue(query.endsWith(", " + name + ")"), name + ": " + query);
    }
    assertTrue(variableQuery(byName.get("instance")).contains(JOB_MATCHER), "instance must follow the chosen job");
  }

  @Test
  void everyPanelAndEveryTargetUsesTheDatasourceVariable() {
    for (Map<String, Object> panel : panels) {
      assertDatasourceVariable(panel.get("datasource"), "panel " + panel.get("title"));
      for (Object target : list(panel.get("targets"))) {
        assertDatasourceVariable(map(target).get("datasource"),
            "panel " + panel.get("title") + " target " + map(target).get("refId"));
      }
    }
  }

  @Test
  void noImportPlaceholderAppearsOutsideInputs() {
    List<String> offenders = new ArrayList<>();
    dashboard.forEach((key, value) -> {
      if (!key.equals("__inputs")) collectStrings(key, value, offenders);
    });
    offenders.removeIf(s -> !s.contains("${DS_"));
    assertEquals(List.of(), offenders);
  }

  @Test
  void inputsAndRequiresAllowGrafanaComStyleImport() {
    List<Object> inputs = list(dashboard.get("__inputs"));
    assertTrue(inputs.stream().map(this::map).anyMatch(i ->
        "datasource".equals(i.get("type")) && "prometheus".equals(i.get("pluginId"))), "__inputs: " + inputs);

    Set<String> required = list(dashboard.get("__requires")).stream().map(this::map)
        .map(r -> r.get("type") + ":" + r.get("id")).collect(Collectors.toSet());
    Set<String> expected = new TreeSet<>(Set.of("grafana:grafana", "datasource:prometheus"));
    panels.forEach(p -> expected.add("panel:" + p.get("type")));
    assertTrue(required.containsAll(expected), "__requires " + required + " lacks some of " + expected);
    Map<String, Object> grafana = list(dashboard.get("__requires")).stream().map(this::map)
        .filter(r -> "grafana".equals(r.get("id"))).findFirst().orElseThrow();
    assertTrue(((String) grafana.get("version")).startsWith("11."), "requires Grafana " + grafana.get("version"));
  }

  @Test
  void exactlyNinePanelsOfTheAllowedTypesEachWithAUnit() {
    assertEquals(9, panels.size(), "panels: " + panels.stream().map(p -> p.get("title")).toList());
    Set<Object> ids = new HashSet<>();
    for (Map<String, Object> panel : panels) {
      String title = (String) panel.get("title");
      assertTrue(PANEL_TYPES.contains((String) panel.get("type")), title + " is a " + panel.get("type"));
      assertFalse(panel.containsKey("panels"), title + " nests panels");
      assertTrue(ids.add(panel.get("id")), "duplicate panel id " + panel.get("id"));
      Object unit = map(map(panel.get("fieldConfig")).get("defaults")).get("unit");
      assertTrue(unit instanceof String u && !u.isBlank(), title + " has no unit");
      assertFalse(list(panel.get("targets")).isEmpty(), title + " has no query");
    }
  }

  @Test
  void aSecondRowShowsEachHostsRepositorySizeOverTimeAndItsSnapshotsBelowTheFleetPanels() {
    List<Map<String, Object>> rows = Dashboard.rows();
    assertEquals(1, rows.size(), "rows: " + rows);
    Map<String, Object> row = rows.get(0);
    assertEquals("Repositories", row.get("title"));
    assertEquals(Boolean.FALSE, row.get("collapsed"), "open, so its panels are top-level ones");
    assertEquals(List.of(), list(row.get("panels")));
    BigDecimal rowY = (BigDecimal) map(row.get("gridPos")).get("y");

    Set<String> repositoryMetrics = Set.of("restic_manager_host_repository_size_bytes", "restic_manager_host_snapshots");
    Map<String, Map<String, Object>> below = new TreeMap<>();
    for (Map<String, Object> panel : panels) {
      Set<String> read = panelMetrics(panel);
      BigDecimal y = (BigDecimal) map(panel.get("gridPos")).get("y");
      boolean repository = repositoryMetrics.containsAll(read);
      assertEquals(repository, y.compareTo(rowY) > 0, panel.get("title") + " at y " + y + ", the row at " + rowY);
      if (repository) below.put(String.join(",", read), panel);
    }
    Map<String, Object> size = below.get("restic_manager_host_repository_size_bytes");
    assertEquals("timeseries", size.get("type"), "size over time");
    assertEquals("bytes", map(map(size.get("fieldConfig")).get("defaults")).get("unit"));
    Map<String, Object> snapshots = below.get("restic_manager_host_snapshots");
    assertEquals("bargauge", snapshots.get("type"), "the count per host now");
    for (Map<String, Object> panel : below.values()) {
      for (Object t : list(panel.get("targets"))) {
        assertTrue(((String) map(t).get("expr")).startsWith("max by (host) ("), "one row per host over the nodes");
      }
    }
  }

  @Test
  void everyExpressionSelectsTheChosenJobAndInstance() {
    for (Query q : queries) {
      List<Selector> selectors = Dashboard.selectorsIn(q.expr());
      assertFalse(selectors.isEmpty(), where(q) + " reads no metric");
      for (Selector s : selectors) {
        assertNotNull(s.matchers(), where(q) + ": " + s.metric() + " has no selector");
        assertTrue(s.matchers().contains(JOB_MATCHER) && s.matchers().contains(INSTANCE_MATCHER),
            where(q) + ": " + s.metric() + "{" + s.matchers() + "}");
      }
    }
  }

  @Test
  void everyRateAndIncreaseRunsOverTheRateInterval() {
    int seen = 0;
    for (Query q : queries) {
      Matcher fn = Pattern.compile("\\b(rate|increase|irate|delta|idelta|deriv)\\s*\\(").matcher(q.expr());
      while (fn.find()) {
        seen++;
        assertTrue(fn.group(1).equals("rate") || fn.group(1).equals("increase"), where(q) + " uses " + fn.group(1));
        String argument = argumentOf(q.expr(), fn.end() - 1);
        assertTrue(argument.strip().endsWith("[$__rate_interval]"), where(q) + ": " + fn.group(1) + "(" + argument + ")");
      }
      Matcher range = Pattern.compile("\\[[^\\]]*]").matcher(q.expr());
      while (range.find()) {
        assertEquals("[$__rate_interval]", range.group(), where(q));
      }
    }
    assertTrue(seen >= 3, "expected rates in the duration and outcome panels, saw " + seen);
  }

  @Test
  void everyHistogramQuantileKeepsLeInItsGrouping() {
    int seen = 0;
    for (Query q : queries) {
      Matcher hq = Pattern.compile("\\bhistogram_quantile\\s*\\(").matcher(q.expr());
      while (hq.find()) {
        seen++;
        String argument = argumentOf(q.expr(), hq.end() - 1);
        Matcher by = Pattern.compile("\\bby\\s*\\(([^)]*)\\)").matcher(argument);
        int groupings = 0;
        while (by.find()) {
          groupings++;
          Set<String> labels = Set.of(by.group(1).replace(" ", "").split(","));
          assertTrue(labels.contains("le"), where(q) + " drops le: " + by.group());
        }
        assertTrue(groupings > 0, where(q) + " has no sum by (le, ...)");
        assertFalse(argument.matches("(?s).*\\bwithout\\s*\\([^)]*\\ble\\b.*"), where(q) + " drops le");
        assertTrue(argument.contains(ContractMetrics.HISTOGRAM + "_bucket"), where(q));
      }
    }
    assertEquals(2, seen, "p50 and p95");
  }

  @Test
  void everyMetricNameIsAContractFamily() {
    Set<String> unknown = new TreeSet<>(metricNamesUsed());
    unknown.removeAll(ContractMetrics.seriesNames());
    assertEquals(Set.of(), unknown);
  }

  @Test
  void everyPanelReadsAtLeastOneMetric() {
    for (Map<String, Object> panel : panels) {
      Set<String> names = queries.stream()
          .filter(q -> q.panelTitle().equals(panel.get("title")))
          .flatMap(q -> Dashboard.metricNamesIn(q.expr()).stream()).collect(Collectors.toSet());
      assertFalse(names.isEmpty(), panel.get("title") + " reads no metric");
    }
    assertTrue(metricNamesUsed().containsAll(Set.of(
        "restic_manager_hosts", "restic_manager_alerts_open", "restic_manager_host_online",
        "restic_manager_host_last_success_timestamp_seconds", "restic_manager_host_last_job_timestamp_seconds",
        "restic_manager_host_last_backup_added_bytes", "restic_manager_host_open_alerts",
        "restic_manager_job_duration_seconds_bucket", "restic_manager_job_duration_seconds_count",
        "restic_manager_cluster_members", "restic_manager_host_repository_size_bytes",
        "restic_manager_host_snapshots")),
        "used: " + metricNamesUsed());
  }

  @Test
  void metricNameExtractionSkipsFunctionsLabelsKeywordsAndNumbers() {
    String expr = "histogram_quantile(0.95, sum by (le, kind) (rate(a_bucket{job=~\"$job\", x=\"not_a_metric\"}"
        + "[$__rate_interval]))) or on (host) time() - max without (y) (b > bool 1e3) unless c:recorded offset 5m";
    assertEquals(Set.of("a_bucket", "b", "c:recorded"), Dashboard.metricNamesIn(expr));
    List<Selector> selectors = Dashboard.selectorsIn(expr);
    assertEquals("job=~\"$job\", x=\"not_a_metric\"", selectors.get(0).matchers());
    assertNull(selectors.get(1).matchers());
  }

  @Test
  void hostTableMergesInstantTableQueries() {
    Map<String, Object> table = onlyPanelOfType("table");
    for (Object t : list(table.get("targets"))) {
      assertEquals(Boolean.TRUE, map(t).get("instant"), "target " + map(t).get("refId"));
      assertEquals("table", map(t).get("format"), "target " + map(t).get("refId"));
    }
    List<Object> transformationIds = list(table.get("transformations")).stream().map(t -> map(t).get("id")).toList();
    assertEquals(List.of("merge", "organize"), transformationIds);
  }

  @Test
  void backupAgeBarsTurnYellowAfterADayAndRedAtTheStaleThreshold() {
    List<Map<String, Object>> ages = panels.stream().filter(p -> "bargauge".equals(p.get("type"))
        && panelMetrics(p).equals(Set.of("restic_manager_host_last_success_timestamp_seconds"))).toList();
    assertEquals(1, ages.size());
    Map<String, Object> bars = ages.get(0);
    Map<String, Object> defaults = map(map(bars.get("fieldConfig")).get("defaults"));
    assertEquals("s", defaults.get("unit"));
    List<Object> steps = list(map(defaults.get("thresholds")).get("steps"));
    assertEquals(List.of("green", "yellow", "red"), steps.stream().map(s -> map(s).get("color")).toList());
    assertNull(map(steps.get(0)).get("value"));
    assertEquals(new BigDecimal(86400), map(steps.get(1)).get("value"));
    BigDecimal red = (BigDecimal) map(steps.get(2)).get("value");
    assertTrue(red.intValue() >= 25 * 3600 && red.intValue() <= 27 * 3600, "red at " + red + " s");
    for (Object t : list(bars.get("targets"))) {
      assertTrue(Dashboard.metricNamesIn((String) map(t).get("expr"))
          .contains("restic_manager_host_last_success_timestamp_seconds"));
    }
  }

  @Test
  void dataAddedIsShownInBytes() {
    List<Map<String, Object>> dataPanels = panels.stream()
        .filter(p -> list(p.get("targets")).stream().allMatch(t ->
            Dashboard.metricNamesIn((String) map(t).get("expr")).equals(Set.of("restic_manager_host_last_backup_added_bytes"))))
        .toList();
    assertEquals(1, dataPanels.size());
    assertEquals("bytes", map(map(dataPanels.get(0).get("fieldConfig")).get("defaults")).get("unit"));
  }

  // --- helpers ---------------------------------------------------------------------------

  private Set<String> panelMetrics(Map<String, Object> panel) {
    Set<String> names = new TreeSet<>();
    for (Object t : list(panel.get("targets"))) names.addAll(Dashboard.metricNamesIn((String) map(t).get("expr")));
    return names;
  }

  private static String where(Query q) {
    return "panel '" + q.panelTitle() + "' target " + q.refId();
  }

  /** The text between the parenthesis at {@code open} and its partner. */
  private static String argumentOf(String expr, int open) {
    int depth = 0;
    for (int i = open; i < expr.length(); i++) {
      char c = expr.charAt(i);
      if (c == '(') depth++;
      if (c == ')' && --depth == 0) return expr.substring(open + 1, i);
    }
    fail("unbalanced parentheses in " + expr);
    return "";
  }

  private void assertDatasourceVariable(Object datasource, String where) {
    assertTrue(datasource instanceof Map, where + " has no datasource object: " + datasource);
    assertEquals("prometheus", map(datasource).get("type"), where);
    assertEquals(DATASOURCE_UID, map(datasource).get("uid"), where);
  }

  private List<Map<String, Object>> variables() {
    return list(map(dashboard.get("templating")).get("list")).stream().map(this::map).toList();
  }

  private static String variableQuery(Map<String, Object> variable) {
    Object q = variable.get("query");
    return q instanceof Map<?, ?> m ? (String) m.get("query") : (String) q;
  }

  private Map<String, Object> onlyPanelOfType(String type) {
    List<Map<String, Object>> found = panels.stream().filter(p -> type.equals(p.get("type"))).toList();
    assertEquals(1, found.size(), type + " panels");
    return found.get(0);
  }

  private static void collectStrings(String path, Object value, List<String> out) {
    if (value instanceof String s) {
      out.add(s);
    } else if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> {
        out.add((String) k);
        collectStrings(path + "." + k, v, out);
      });
    } else if (value instanceof List<?> l) {
      l.forEach(v -> collectStrings(path, v, out));
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a JSON object, got " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertTrue(o instanceof List, "expected a JSON array, got " + o);
    return (List<Object>) o;
  }
}
