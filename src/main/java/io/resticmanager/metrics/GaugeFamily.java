package io.resticmanager.metrics;

import java.util.List;
import java.util.Objects;

/**
 * A gauge family: one value per row. Validated at construction (name and label syntax, unit suffix,
 * label count of every row); immutable. Rows are kept in the producer's order. Duplicate label sets are
 * not detected: the producer guarantees they are unique.
 */
public record GaugeFamily(String name, String help, String unit, List<String> labelNames, List<Row> rows)
    implements MetricFamily {

  public GaugeFamily {
    MetricNames.checkMetricName(name);
    MetricNames.checkHelp(name, help);
    MetricNames.checkUnit(name, unit);
    labelNames = MetricNames.checkLabelNames(labelNames);
    rows = List.copyOf(rows);
    for (Row row : rows) {
      MetricNames.checkLabelCount(name, labelNames, row.labelValues());
    }
  }

  /** A gauge without a unit. */
  public static GaugeFamily of(String name, String help, List<String> labelNames, List<Row> rows) {
    return new GaugeFamily(name, help, "", labelNames, rows);
  }

  @Override
  public int size() {
    return rows.size();
  }

  /** One labelled value; label values in the order of the family's label names. Any double, NaN included. */
  public record Row(List<String> labelValues, double value) {

    public Row {
      labelValues = List.copyOf(labelValues);
    }

    public static Row of(double value, String... labelValues) {
      Objects.requireNonNull(labelValues, "labelValues");
      return new Row(List.of(labelValues), value);
    }
  }
}
