package io.resticmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HistogramBucketsTest {

  @Test
  void leValuesFollowTheOpenMetricsCanonicalExamples() {
    double[] bounds = {0.001, 0.002, 0.01, 0.1, 0.9, 0.95, 0.99, 0.999, 1.0, 1.7, 10.0};
    String[] expected = {"0.001", "0.002", "0.01", "0.1", "0.9", "0.95", "0.99", "0.999", "1.0", "1.7", "10.0"};
    assertLe(expected, HistogramBuckets.of(bounds));
  }

  @Test
  void powersOfTenSwitchToExponentsWhereGoDoes() {
    double[] bounds = {1e-10, 1e-9, 1e-5, 1e-4, 0.1, 1, 1e5, 1e6, 1e10};
    String[] expected = {"1e-10", "1e-09", "1e-05", "0.0001", "0.1", "1.0", "100000.0", "1e+06", "1e+10"};
    assertLe(expected, HistogramBuckets.of(bounds));
  }

  @Test
  void otherBoundsAreRenderedTheSameWay() {
    double[] bounds = {-2.5, 0, 0.005, 86400, 123456, 1234567, 1.5e-7};
    String[] expected = {"-2.5", "0.0", "0.005", "86400.0", "123456.0", "1.234567e+06", "1.5e-07"};
    String[] actual = new String[bounds.length];
    for (int i = 0; i < bounds.length; i++) actual[i] = HistogramBuckets.canonical(bounds[i]);
    assertEquals(String.join(" ", expected), String.join(" ", actual));
  }

  @Test
  void theLastBucketIsPlusInf() {
    HistogramBuckets buckets = HistogramBuckets.of(1, 5);
    assertEquals(2, buckets.size());
    assertEquals("+Inf", buckets.le(2));
    assertEquals(HistogramBuckets.of(), HistogramBuckets.of());
    assertEquals("+Inf", HistogramBuckets.of().le(0));
  }

  @Test
  void boundsMustBeFiniteAndStrictlyIncreasing() {
    assertThrows(IllegalArgumentException.class, () -> HistogramBuckets.of(1, 1));
    assertThrows(IllegalArgumentException.class, () -> HistogramBuckets.of(2, 1));
    assertThrows(IllegalArgumentException.class, () -> HistogramBuckets.of(1, Double.POSITIVE_INFINITY));
    assertThrows(IllegalArgumentException.class, () -> HistogramBuckets.of(Double.NaN));
  }

  @Test
  void theBoundsCannotBeChangedFromOutside() {
    double[] bounds = {1, 2};
    HistogramBuckets buckets = HistogramBuckets.of(bounds);
    bounds[0] = 0.5;
    buckets.upperBounds()[1] = 7;
    assertEquals(HistogramBuckets.of(1, 2), buckets);
    assertEquals(2.0, buckets.upperBound(1));
  }

  private static void assertLe(String[] expected, HistogramBuckets buckets) {
    String[] actual = new String[buckets.size()];
    for (int i = 0; i < actual.length; i++) actual[i] = buckets.le(i);
    assertEquals(String.join(" ", expected), String.join(" ", actual));
  }
}
