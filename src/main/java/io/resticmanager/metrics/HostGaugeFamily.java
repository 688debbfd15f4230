package io.resticmanager.metrics;

import java.util.List;

/**
 * A per-host gauge family whose rows were rendered ahead of time ({@link HostRows}): each of its rows is a
 * block of the rows of several hosts, in host name order, which may also come deflated on its own for gzip
 * ({@link GzipPieces}; {@code deflated} is null otherwise). Made only by {@link ServerMetrics#build}, which
 * names the family as its rows were rendered; validated like any family. {@link #size()} counts blocks.
 */
record HostGaugeFamily(String name, String help, String unit, List<String> labelNames, List<byte[]> blocks,
    List<byte[]> deflated) implements MetricFamily {

  HostGaugeFamily {
    MetricNames.checkMetricName(name);
    MetricNames.checkHelp(name, help);
    MetricNames.checkUnit(name, unit);
    labelNames = MetricNames.checkLabelNames(labelNames);
    blocks = List.copyOf(blocks);
    if (deflated != null) {
      deflated = List.copyOf(deflated);
      if (deflated.size() != blocks.size()) throw new IllegalArgumentException("a deflated form for every block");
    }
  }

  @Override
  public int size() {
    return blocks.size();
  }
}
