package io.resticmanager.metrics;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A histogram family: every row shares one bucket layout and carries per-bucket counts, a sum and a
 * count. Validated at construction (names, {@code le} never a label of its own, unit suffix, label and
 * bucket counts of every row); immutable. Rows are kept in the producer's order.
 */
public record HistogramFamily(
    String name, String help, String unit, List<String> labelNames, HistogramBuckets buckets, List<Row> rows)
    implements MetricFamily {

  public HistogramFamily {
    MetricNames.checkMetricName(name);
    MetricNames.checkHelp(name, help);
    MetricNames.checkUnit(name, unit);
    labelNames = MetricNames.checkLabelNames(labelNames, "le");
    Objects.requireNonNull(buckets, "buckets");
    rows = List.copyOf(rows);
    for (Row row : rows) {
      MetricNames.checkLabelCount(name, labelNames, row.labelValues());
      if (row.counts.length != buckets.size()) {
        throw new IllegalArgumentException("histogram [" + name + "] has " + buckets.size()
            + " finite buckets but a row has " + row.counts.length + " counts");
      }
    }
  }

  @Override
  public int size() {
    return rows.size();
  }

  /**
   * One labelled histogram. {@code bucketCounts[i]} counts the observations in
   * {@code (upperBound(i-1), upperBound(i)]}: per bucket, not cumulative; the writers accumulate. Observations
   * above the highest bound appear only in {@code count}, which is therefore the {@code +Inf} bucket.
   */
  public static final class Row {

    private final List<String> labelValues;
    final long[] counts;
    private final double sum;
    private final long count;

    private Row(List<String> labelValues, long[] counts, double sum, long count) {
      this.labelValues = labelValues;
      this.counts = counts;
      this.sum = sum;
      this.count = count;
    }

    /**
     * Copies {@code bucketCounts}. Rejects a negative count, a {@code count} below the sum of the bucket
     * counts, and a negative or NaN {@code sum} (OpenMetrics treats the sum as a counter).
     */
    public static Row of(List<String> labelValues, long[] bucketCounts, double sum, long count) {
      List<String> values = List.copyOf(labelValues);
      long[] copy = bucketCounts.clone();
      long total = 0;
      for (long c : copy) {
        if (c < 0) throw new IllegalArgumentException("negative bucket count in " + Arrays.toString(copy));
        total = Math.addExact(total, c);
      }
      if (!(sum >= 0)) throw new IllegalArgumentException("histogram sum must be >= 0, not " + sum);
      if (count < total) {
        throw new IllegalArgumentException("count " + count + " is below the bucket total " + total);
      }
      return new Row(values, copy, sum, count);
    }

    public List<String> labelValues() {
      return labelValues;
    }

    /** Observations in bucket {@code i} alone (not cumulative). */
    public long bucketCount(int i) {
      return counts[i];
    }

    public double sum() {
      return sum;
    }

    public long count() {
      return count;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Row r
          && labelValues.equals(r.labelValues)
          && Arrays.equals(counts, r.counts)
          && Double.compare(sum, r.sum) == 0
          && count == r.count;
    }

    @Override
    public int hashCode() {
      return Objects.hash(labelValues, Arrays.hashCode(counts), sum, count);
    }

    @Override
    public String toString() {
      return "Row" + labelValues + Arrays.toString(counts) + " sum=" + sum + " count=" + count;
    }
  }
}
