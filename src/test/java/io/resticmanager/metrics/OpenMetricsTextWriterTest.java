package io.resticmanager.metrics;

import static io.resticmanager.metrics.MetricsTextWriterTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class OpenMetricsTextWriterTest {

  @Test
  void writesTheSmallSnapshotExactly() {
    assertEquals("""
        # TYPE app_temperature_celsius gauge
        # HELP app_temperature_celsius Temperature \\\\ per \\"room\\"\\nand sensor.
        app_temperature_celsius{room="kitchen",sensor="north"} 21.5
        app_temperature_celsius{room="a\\\\b\\"c\\nd",sensor="Zürich"} -3
        # TYPE app_request_seconds histogram
        # UNIT app_request_seconds seconds
        # HELP app_request_seconds Request latency.
        app_request_seconds_bucket{path="/api",le="0.005"} 1
        app_request_seconds_bucket{path="/api",le="0.5"} 3
        app_request_seconds_bucket{path="/api",le="1.0"} 3
        app_request_seconds_bucket{path="/api",le="2.5"} 6
        app_request_seconds_bucket{path="/api",le="+Inf"} 8
        app_request_seconds_count{path="/api"} 8
        app_request_seconds_sum{path="/api"} 7.25
        app_request_seconds_bucket{path="/",le="0.005"} 0
        app_request_seconds_bucket{path="/",le="0.5"} 0
        app_request_seconds_bucket{path="/",le="1.0"} 0
        app_request_seconds_bucket{path="/",le="2.5"} 0
        app_request_seconds_bucket{path="/",le="+Inf"} 0
        app_request_seconds_count{path="/"} 0
        app_request_seconds_sum{path="/"} 0
        # TYPE app_batch_bytes histogram
        # UNIT app_batch_bytes bytes
        # HELP app_batch_bytes Batch sizes.
        app_batch_bytes_bucket{le="1024.0"} 2
        app_batch_bytes_bucket{le="+Inf"} 3
        app_batch_bytes_count 3
        app_batch_bytes_sum 1536
        # TYPE app_build_info gauge
        # HELP app_build_info Build of the app.
        app_build_info{version="1.2.3",revision="abc123"} 1
        # TYPE app_up gauge
        # HELP app_up Whether the app is up.
        app_up 1
        # EOF
        """, text(OpenMetricsTextWriter.INSTANCE, WriterFixtures.small()));
  }

  @Test
  void aFamilyWithoutRowsStillHasItsMetadata() {
    assertEquals("""
        # TYPE m_seconds gauge
        # UNIT m_seconds seconds
        # HELP m_seconds Nothing yet.
        # EOF
        """, text(OpenMetricsTextWriter.INSTANCE,
            MetricsSnapshot.of(new GaugeFamily("m_seconds", "Nothing yet.", "seconds", List.of("host"), List.of()))));
  }

  @Test
  void theContentTypeIsTheExactVersionedOne() {
    assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", OpenMetricsTextWriter.CONTENT_TYPE);
    assertEquals(OpenMetricsTextWriter.CONTENT_TYPE, OpenMetricsTextWriter.INSTANCE.contentType());
  }
}
