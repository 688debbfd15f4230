package io.resticmanager.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import scala.jdk.javaapi.CollectionConverters;
import spray.json.JsArray;
import spray.json.JsBoolean;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsString;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * The shipped Grafana dashboard, parsed into plain Java values, and the PromQL its panels run.
 * Read by {@link DashboardLintTest} and by integration tests that run every panel's expression
 * against a live Prometheus or look for its metric names in a live /metrics body. Never writes.
 *
 * <p>JSON values become {@code Map<String, Object>}, {@code List<Object>}, {@code String},
 * {@code BigDecimal}, {@code Boolean} or {@code null}.
 */
public final class Dashboard {
  /** Relative to the repository root. */
  public static final Path FILE = Path.of("deploy", "grafana", "restic-manager-dashboard.json");

  /** One target of one panel. {@code expr} still holds Grafana's variables. */
  public record Query(int panelId, String panelTitle, String panelType, String refId, String expr,
      boolean instant) {
    /** The expression with {@code $job}, {@code $instance} and {@code $__rate_interval} filled in. */
    public String resolve(String jobRegex, String instanceRegex, String rateInterval) {
      return expr.replace("$__rate_interval", rateInterval)
          .replace("$instance", instanceRegex)
          .replace("$job", jobRegex);
    }

    /** Whether it runs rate() or increase(), whose values extrapolate from each target's own scrape times. */
    public boolean extrapolates() {
      return expr.contains("rate(") || expr.contains("increase(");
    }
  }

  /** A metric name in an expression and the text between its braces, or null when it has none. */
  public record Selector(String metric, String matchers) {}

  private static final Pattern STRING =
      Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|`[^`]*`");
  private static final Pattern BRACES = Pattern.compile("\\{[^}]*}");
  private static final Pattern BRACKETS = Pattern.compile("\\[[^\\]]*]");
  private static final Pattern GROUPING = Pattern.compile(
      "\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern DURATION = Pattern.compile("\\b(?:\\d+(?:ms|[smhdwy]))+\\b");
  private static final Pattern NUMBER =
      Pattern.compile("(?<![A-Za-z0-9_:.])(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?");
  private static final Pattern IDENTIFIER = Pattern.compile("(?<![A-Za-z0-9_:$])[A-Za-z_:][A-Za-z0-9_:]*");
  private static final Set<String> KEYWORDS = Set.of(
      "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
      "unless", "offset", "atan2", "inf", "nan");

  private Dashboard() {}

  /** The repository root: Maven's basedir when Surefire runs us, else the working directory. */
  public static Path repoRoot() {
    return Path.of(System.getProperty("basedir", "")).toAbsolutePath();
  }

  public static String text() {
    try {
      return Files.readString(repoRoot().resolve(FILE), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The whole dashboard document. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> json() {
    return (Map<String, Object>) toJava(JsonParser.apply(ParserInput.apply(text())));
  }

  /** Top-level panels in file order, without the row headers. */
  public static List<Map<String, Object>> panels() {
    return topLevel().stream().filter(p -> !ROW.equals(p.get("type"))).toList();
  }

  /** The row headers ({@code "type": "row"}) among the top-level panels, in file order. */
  public static List<Map<String, Object>> rows() {
    return topLevel().stream().filter(p -> ROW.equals(p.get("type"))).toList();
  }

  private static final String ROW = "row";

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> topLevel() {
    return (List<Map<String, Object>>) (List<?>) json().get("panels");
  }

  /** Every target of every panel, in file order. */
  @SuppressWarnings("unchecked")
  public static List<Query> queries() {
    List<Query> out = new ArrayList<>();
    for (Map<String, Object> panel : panels()) {
      int id = ((BigDecimal) panel.get("id")).intValueExact();
      for (Object t : (List<Object>) panel.get("targets")) {
        Map<String, Object> target = (Map<String, Object>) t;
        out.add(new Query(id, (String) panel.get("title"), (String) panel.get("type"),
            (String) target.get("refId"), (String) target.get("expr"),
            Boolean.TRUE.equals(target.get("instant"))));
      }
    }
    return out;
  }

  /** Every metric name the panels' expressions read, e.g. {@code restic_manager_job_duration_seconds_bucket}. */
  public static Set<String> metricNamesUsed() {
    Set<String> names = new TreeSet<>();
    for (Query q : queries()) names.addAll(metricNamesIn(q.expr()));
    return names;
  }

  /** The metric names in one PromQL expression. */
  public static Set<String> metricNamesIn(String expr) {
    Set<String> names = new TreeSet<>();
    for (Selector s : selectorsIn(expr)) names.add(s.metric());
    return names;
  }

  /**
   * Every metric reference in an expression, with its matchers. Enough PromQL for dashboards:
   * string literals, label matchers, ranges, grouping clauses and numbers are blanked out (same
   * length, so positions hold), and what remains as an identifier not followed by "(" and not a
   * keyword is a metric name.
   */
  public static List<Selector> selectorsIn(String expr) {
    String s = blank(expr, STRING);
    String withoutStrings = s;
    s = blank(s, BRACES);
    s = blank(s, BRACKETS);
    s = blank(s, GROUPING);
    s = blank(s, DURATION);
    s = blank(s, NUMBER);
    List<Selector> out = new ArrayList<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      String name = m.group();
      int next = skipSpaces(s, m.end());
      if (next < s.length() && s.charAt(next) == '(') continue; // function or aggregation
      if (KEYWORDS.contains(name.toLowerCase(Locale.ROOT))) continue;
      // Braces were blanked in s; look for them where only strings were.
      int brace = skipSpaces(withoutStrings, m.end());
      String matchers = null;
      if (brace < withoutStrings.length() && withoutStrings.charAt(brace) == '{') {
        matchers = expr.substring(brace + 1, withoutStrings.indexOf('}', brace));
      }
      out.add(new Selector(name, matchers));
    }
    return out;
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    return i;
  }

  private static String blank(String s, Pattern p) {
    StringBuilder sb = new StringBuilder(s);
    Matcher m = p.matcher(s);
    while (m.find()) {
      for (int i = m.start(); i < m.end(); i++) sb.setCharAt(i, ' ');
    }
    return sb.toString();
  }

  static Object toJava(JsValue v) {
    if (v instanceof JsObject o) {
      Map<String, Object> m = new LinkedHashMap<>();
      CollectionConverters.asJava(o.fields()).forEach((k, x) -> m.put(k, toJava(x)));
      return m;
    }
    if (v instanceof JsArray a) {
      List<Object> l = new ArrayList<>();
      for (JsValue x : CollectionConverters.asJava(a.elements())) l.add(toJava(x));
      return l;
    }
    if (v instanceof JsString str) return str.value();
    if (v instanceof JsNumber n) return n.value().bigDecimal();
    if (v instanceof JsBoolean b) return b.value();
    return null; // JsNull
  }
}
