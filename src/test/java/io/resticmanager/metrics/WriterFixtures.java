package io.resticmanager.metrics;

import java.util.List;

/** The small snapshot both golden writer tests render. */
final class WriterFixtures {

  private WriterFixtures() {}

  static MetricsSnapshot small() {
    return MetricsSnapshot.of(
        GaugeFamily.of("app_temperature_celsius", "Temperature \\ per \"room\"\nand sensor.", List.of("room", "sensor"),
            List.of(
                GaugeFamily.Row.of(21.5, "kitchen", "north"),
                GaugeFamily.Row.of(-3, "a\\b\"c\nd", "Zürich"))),
        new HistogramFamily("app_request_seconds", "Request latency.", "seconds", List.of("path"),
            HistogramBuckets.of(0.005, 0.5, 1, 2.5),
            List.of(
                HistogramFamily.Row.of(List.of("/api"), new long[] {1, 2, 0, 3}, 7.25, 8),
                HistogramFamily.Row.of(List.of("/"), new long[] {0, 0, 0, 0}, 0, 0))),
        new HistogramFamily("app_batch_bytes", "Batch sizes.", "bytes", List.of(), HistogramBuckets.of(1024),
            List.of(HistogramFamily.Row.of(List.of(), new long[] {2}, 1536, 3))),
        GaugeFamily.of("app_build_info", "Build of the app.", List.of("version", "revision"),
            List.of(GaugeFamily.Row.of(1, "1.2.3", "abc123"))),
        GaugeFamily.of("app_up", "Whether the app is up.", List.of(), List.of(GaugeFamily.Row.of(1))));
  }
}
