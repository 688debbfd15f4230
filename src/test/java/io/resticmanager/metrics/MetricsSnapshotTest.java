package io.resticmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsSnapshotTest {

  private static final HistogramBuckets TWO = HistogramBuckets.of(1, 2);

  private static GaugeFamily gauge(String name, List<String> labelNames, GaugeFamily.Row... rows) {
    return GaugeFamily.of(name, "help", labelNames, List.of(rows));
  }

  private static HistogramFamily histogram(String name, List<String> labelNames, HistogramFamily.Row... rows) {
    return new HistogramFamily(name, "help", "", labelNames, TWO, List.of(rows));
  }

  @Test
  void metricNamesFollowThePrometheusPattern() {
    for (String good : List.of("a", "_a", ":a", "a:b_c9", "restic_manager_hosts", "A1")) {
      assertEquals(good, gauge(good, List.of()).name());
    }
    for (String bad : List.of("", "1a", "a-b", "a b", "a.b", "zürich", "a{b}")) {
      assertThrows(IllegalArgumentException.class, () -> gauge(bad, List.of()), bad);
    }
  }

  @Test
  void labelNamesFollowThePrometheusPatternAndAvoidReservedOnes() {
    assertEquals(List.of("a", "_b", "c9"), gauge("m", List.of("a", "_b", "c9")).labelNames());
    for (String bad : List.of("", "1a", "a:b", "a-b", "__name__", "__x")) {
      assertThrows(IllegalArgumentException.class, () -> gauge("m", List.of(bad)), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> gauge("m", List.of("a", "a")));
  }

  @Test
  void histogramsCannotHaveAnLeLabelOfTheirOwn() {
    assertThrows(IllegalArgumentException.class, () -> histogram("h", List.of("le")));
    assertEquals(List.of("le"), gauge("g", List.of("le")).labelNames());
  }

  @Test
  void everyRowMustHaveOneValuePerLabelName() {
    assertThrows(IllegalArgumentException.class, () -> gauge("m", List.of("a", "b"), GaugeFamily.Row.of(1, "x")));
    assertThrows(IllegalArgumentException.class, () -> gauge("m", List.of(), GaugeFamily.Row.of(1, "x")));
    assertThrows(IllegalArgumentException.class,
        () -> histogram("h", List.of("a"), HistogramFamily.Row.of(List.of("x", "y"), new long[2], 0, 0)));
    assertEquals(1, gauge("m", List.of("a", "b"), GaugeFamily.Row.of(1, "x", "y")).size());
  }

  @Test
  void labelValuesMayNotBeNull() {
    assertThrows(NullPointerException.class, () -> GaugeFamily.Row.of(1, "x", null));
  }

  @Test
  void histogramRowsMustMatchTheBucketLayout() {
    assertThrows(IllegalArgumentException.class,
        () -> histogram("h", List.of(), HistogramFamily.Row.of(List.of(), new long[3], 0, 0)));
  }

  @Test
  void histogramRowsRejectImpossibleCountsAndSums() {
    assertThrows(IllegalArgumentException.class, () -> HistogramFamily.Row.of(List.of(), new long[] {-1, 0}, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> HistogramFamily.Row.of(List.of(), new long[] {2, 1}, 5, 2));
    assertThrows(IllegalArgumentException.class, () -> HistogramFamily.Row.of(List.of(), new long[2], -1, 0));
    assertThrows(IllegalArgumentException.class, () -> HistogramFamily.Row.of(List.of(), new long[2], Double.NaN, 0));
    assertEquals(4, HistogramFamily.Row.of(List.of(), new long[] {2, 1}, 5, 4).count());
  }

  @Test
  void aUnitMustBeTheSuffixOfTheName() {
    assertEquals("seconds",
        new GaugeFamily("x_seconds", "help", "seconds", List.of(), List.of()).unit());
    assertThrows(IllegalArgumentException.class,
        () -> new GaugeFamily("x_total", "help", "seconds", List.of(), List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> new GaugeFamily("xseconds", "help", "seconds", List.of(), List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> new GaugeFamily("x_a b", "help", "a b", List.of(), List.of()));
  }

  @Test
  void everyFamilyNeedsHelp() {
    assertThrows(IllegalArgumentException.class, () -> GaugeFamily.of("m", "", List.of(), List.of()));
    assertThrows(NullPointerException.class, () -> GaugeFamily.of("m", null, List.of(), List.of()));
  }

  @Test
  void twoFamiliesCannotProduceTheSameSampleName() {
    assertThrows(IllegalArgumentException.class, () -> MetricsSnapshot.of(gauge("m", List.of()), gauge("m", List.of())));
    assertThrows(IllegalArgumentException.class,
        () -> MetricsSnapshot.of(histogram("h", List.of()), gauge("h_count", List.of())));
    assertThrows(IllegalArgumentException.class,
        () -> MetricsSnapshot.of(gauge("h_bucket", List.of()), histogram("h", List.of())));
  }

  @Test
  void familiesAndRowsKeepTheProducersOrder() {
    GaugeFamily b = gauge("b", List.of("x"), GaugeFamily.Row.of(1, "z"), GaugeFamily.Row.of(2, "a"));
    GaugeFamily a = gauge("a", List.of());
    MetricsSnapshot snapshot = MetricsSnapshot.of(b, a);
    assertEquals(List.of("b", "a"), snapshot.families().stream().map(MetricFamily::name).toList());
    assertEquals(List.of("z", "a"), b.rows().stream().map(r -> r.labelValues().get(0)).toList());
  }

  @Test
  void laterChangesToTheInputsDoNotReachTheSnapshot() {
    List<GaugeFamily.Row> rows = new ArrayList<>(List.of(GaugeFamily.Row.of(1, "x")));
    List<String> labelNames = new ArrayList<>(List.of("a"));
    GaugeFamily family = GaugeFamily.of("m", "help", labelNames, rows);
    rows.add(GaugeFamily.Row.of(2, "y"));
    labelNames.add("b");
    long[] counts = {1, 2};
    HistogramFamily.Row row = HistogramFamily.Row.of(List.of(), counts, 3, 3);
    counts[0] = 99;

    assertEquals(1, family.size());
    assertEquals(List.of("a"), family.labelNames());
    assertEquals(1, row.bucketCount(0));
  }
}
