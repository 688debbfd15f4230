package io.resticmanager.metrics;

import java.util.List;

/**
 * One metric family of a {@link MetricsSnapshot}: a name, its HELP text, an optional unit, the label names
 * every row carries, and the rows in the order the producer gave them. Writers print a family as one
 * contiguous block, rows in that order, and never sort or merge anything.
 *
 * <p>Only gauges and histograms exist here; an info-like family (versions, build) is a gauge whose rows
 * have the value 1, as the contract specifies.
 */
public sealed interface MetricFamily permits GaugeFamily, HistogramFamily, HostGaugeFamily {

  /** The family name, also the sample name of a gauge and the stem of a histogram's samples. */
  String name();

  /** Non-empty: {@code promtool check metrics} fails a family without HELP. */
  String help();

  /** {@code ""} when there is none; otherwise the name ends with {@code _<unit>}. */
  String unit();

  List<String> labelNames();

  /** Number of rows (label sets) in the family. */
  int size();
}
