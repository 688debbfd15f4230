package io.resticmanager.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The validation shared by the snapshot factories: Prometheus metric and label name syntax, units and
 * label sets. Used only by the model classes of this package; it never formats anything.
 */
final class MetricNames {

  private MetricNames() {}

  /** {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, as in the Prometheus data model and the OpenMetrics ABNF. */
  static String checkMetricName(String name) {
    Objects.requireNonNull(name, "metric name");
    if (!isMetricName(name)) {
      throw new IllegalArgumentException("invalid metric name [" + name + "]");
    }
    return name;
  }

  static boolean isMetricName(String name) {
    if (name.isEmpty()) return false;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = isAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && isDigit(c));
      if (!ok) return false;
    }
    return true;
  }

  /**
   * {@code [a-zA-Z_][a-zA-Z0-9_]*}, not starting with {@code __} (reserved for Prometheus' internal
   * labels) and never one of {@code reserved}.
   */
  static List<String> checkLabelNames(List<String> labelNames, String... reserved) {
    List<String> copy = List.copyOf(labelNames);
    Set<String> seen = new HashSet<>();
    for (String label : copy) {
      if (!isLabelName(label)) {
        throw new IllegalArgumentException("invalid label name [" + label + "]");
      }
      if (label.startsWith("__")) {
        throw new IllegalArgumentException("label name [" + label + "] is reserved (starts with __)");
      }
      for (String r : reserved) {
        if (r.equals(label)) throw new IllegalArgumentException("label name [" + label + "] is reserved");
      }
      if (!seen.add(label)) throw new IllegalArgumentException("duplicate label name [" + label + "]");
    }
    return copy;
  }

  static boolean isLabelName(String name) {
    if (name.isEmpty()) return false;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = isAsciiLetter(c) || c == '_' || (i > 0 && isDigit(c));
      if (!ok) return false;
    }
    return true;
  }

  /** An empty unit means none; otherwise OpenMetrics wants {@code _<unit>} as the name's suffix. */
  static String checkUnit(String familyName, String unit) {
    Objects.requireNonNull(unit, "unit (use \"\" for none)");
    if (unit.isEmpty()) return unit;
    for (int i = 0; i < unit.length(); i++) {
      char c = unit.charAt(i);
      if (!(isAsciiLetter(c) || isDigit(c) || c == '_' || c == ':')) {
        throw new IllegalArgumentException("invalid unit [" + unit + "]");
      }
    }
    if (!familyName.endsWith("_" + unit)) {
      throw new IllegalArgumentException("metric [" + familyName + "] must end with _" + unit + " to carry that unit");
    }
    return unit;
  }

  static String checkHelp(String familyName, String help) {
    Objects.requireNonNull(help, "help");
    if (help.isEmpty()) {
      throw new IllegalArgumentException("metric [" + familyName + "] needs a HELP text");
    }
    return help;
  }

  static void checkLabelCount(String familyName, List<String> labelNames, List<String> labelValues) {
    if (labelValues.size() != labelNames.size()) {
      throw new IllegalArgumentException("metric [" + familyName + "] has labels " + labelNames
          + " but a row has " + labelValues.size() + " values " + labelValues);
    }
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
