package io.resticmanager.support;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A reader of Prometheus text exposition (0.0.4, and the sample lines of OpenMetrics) for tests that
 * look at a live {@code /metrics} body: samples with their labels, the families' TYPE lines, and series
 * keys that ignore values. Strict enough to fail a test on a malformed line; not a full parser.
 */
public final class Exposition {
  /** One sample line. {@code labels} keep the body's order; {@code value} is the text as written. */
  public record Sample(String name, Map<String, String> labels, String value) {
    public double number() {
      return switch (value) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(value);
      };
    }

    public String label(String key) {
      return labels.get(key);
    }

    /** Name and labels sorted by label name: the identity of the series, whatever its value. */
    public String key() {
      return name + new TreeMap<>(labels);
    }
  }

  private final List<Sample> samples;
  private final Map<String, String> types;

  private Exposition(List<Sample> samples, Map<String, String> types) {
    this.samples = Collections.unmodifiableList(samples);
    this.types = Collections.unmodifiableMap(types);
  }

  public static Exposition parse(String body) {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : body.split("\n")) {
      if (line.isEmpty()) continue;
      if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ");
        if (p.length != 4) throw new IllegalArgumentException("bad TYPE line: " + line);
        types.put(p[2], p[3]);
        continue;
      }
      if (line.startsWith("#")) continue;
      samples.add(sample(line));
    }
    return new Exposition(samples, types);
  }

  public List<Sample> samples() {
    return samples;
  }

  /** Family name → type, as the TYPE lines say. */
  public Map<String, String> types() {
    return types;
  }

  public List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** Every sample name (e.g. {@code restic_manager_job_duration_seconds_bucket}). */
  public Set<String> names() {
    Set<String> out = new TreeSet<>();
    for (Sample s : samples) out.add(s.name());
    return out;
  }

  /** Every series identity, values ignored. */
  public Set<String> seriesKeys() {
    Set<String> out = new TreeSet<>();
    for (Sample s : samples) out.add(s.key());
    return out;
  }

  /** Every value of one label across all samples. */
  public Set<String> labelValues(String label) {
    Set<String> out = new TreeSet<>();
    for (Sample s : samples) {
      String v = s.labels().get(label);
      if (v != null) out.add(v);
    }
    return out;
  }

  /** The single sample of {@code name} whose labels include every pair of {@code match}. */
  public Sample one(String name, Map<String, String> match) {
    List<Sample> found = named(name).stream()
        .filter(s -> match.entrySet().stream().allMatch(e -> e.getValue().equals(s.labels().get(e.getKey()))))
        .toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one " + name + match + ", found " + found.size() + ": " + found);
    }
    return found.get(0);
  }

  private static Sample sample(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') i++;
    String name = line.substring(0, i);
    if (name.isEmpty()) throw new IllegalArgumentException("no metric name: " + line);
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq);
        if (line.charAt(eq + 1) != '"') throw new IllegalArgumentException("unquoted label value: " + line);
        StringBuilder v = new StringBuilder();
        int j = eq + 2;
        while (line.charAt(j) != '"') {
          char c = line.charAt(j);
          if (c == '\\') {
            char n = line.charAt(++j);
            v.append(n == 'n' ? '\n' : n);
          } else {
            v.append(c);
          }
          j++;
        }
        if (labels.put(key, v.toString()) != null) throw new IllegalArgumentException("label twice: " + line);
        i = j + 1;
        if (line.charAt(i) == ',') i++;
      }
      i++;
    }
    if (i >= line.length() || line.charAt(i) != ' ') throw new IllegalArgumentException("no value: " + line);
    String rest = line.substring(i + 1);
    int space = rest.indexOf(' ');
    String value = space < 0 ? rest : rest.substring(0, space);
    return new Sample(name, labels, value);
  }
}
