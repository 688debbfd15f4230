package io.resticmanager.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything one scrape exposes: metric families in the producer's order, written in exactly that order,
 * each as one contiguous block. Immutable; validated at construction so that no two families can produce
 * the same sample name (a histogram {@code foo} also claims {@code foo_bucket}, {@code foo_count} and
 * {@code foo_sum}). Built by {@link ServerMetrics}, consumed by the {@link MetricsTextWriter}s; it knows
 * nothing about formats or HTTP.
 */
public record MetricsSnapshot(List<MetricFamily> families) {

  public MetricsSnapshot {
    families = List.copyOf(families);
    Set<String> sampleNames = new HashSet<>();
    for (MetricFamily family : families) {
      claim(sampleNames, family.name());
      if (family instanceof HistogramFamily) {
        claim(sampleNames, family.name() + "_bucket");
        claim(sampleNames, family.name() + "_count");
        claim(sampleNames, family.name() + "_sum");
      }
    }
  }

  public static MetricsSnapshot of(MetricFamily... families) {
    return new MetricsSnapshot(List.of(families));
  }

  private static void claim(Set<String> sampleNames, String name) {
    if (!sampleNames.add(name)) {
      throw new IllegalArgumentException("metric name [" + name + "] is used by two families");
    }
  }
}
