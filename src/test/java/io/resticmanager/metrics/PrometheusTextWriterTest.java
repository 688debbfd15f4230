package io.resticmanager.metrics;

import static io.resticmanager.metrics.MetricsTextWriterTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrometheusTextWriterTest {

  @Test
  void writesTheSmallSnapshotExactly() {
    assertEquals("""
        # HELP app_temperature_celsius Temperature \\\\ per "room"\\nand sensor.
        # TYPE app_temperature_celsius gauge
        app_temperature_celsius{room="kitchen",sensor="north"} 21.5
        app_temperature_celsius{room="a\\\\b\\"c\\nd",sensor="Zürich"} -3
        # HELP app_request_seconds Request latency.
        # TYPE app_request_seconds histogram
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
        # HELP app_batch_bytes Batch sizes.
        # TYPE app_batch_bytes histogram
        app_batch_bytes_bucket{le="1024.0"} 2
        app_batch_bytes_bucket{le="+Inf"} 3
        app_batch_bytes_count 3
        app_batch_bytes_sum 1536
        # HELP app_build_info Build of the app.
        # TYPE app_build_info gauge
        app_build_info{version="1.2.3",revision="abc123"} 1
        # HELP app_up Whether the app is up.
        # TYPE app_up gauge
        app_up 1
        """, text(PrometheusTextWriter.INSTANCE, WriterFixtures.small()));
  }

  @Test
  void aFamilyWithoutRowsStillHasItsMetadata() {
    assertEquals("""
        # HELP m_seconds Nothing yet.
        # TYPE m_seconds gauge
        """, text(PrometheusTextWriter.INSTANCE,
            MetricsSnapshot.of(new GaugeFamily("m_seconds", "Nothing yet.", "seconds", List.of("host"), List.of()))));
  }

  @Test
  void theContentTypeIsTheExactVersionedOne() {
    assertEquals("text/plain; version=0.0.4; charset=utf-8", PrometheusTextWriter.CONTENT_TYPE);
    assertEquals(PrometheusTextWriter.CONTENT_TYPE, PrometheusTextWriter.INSTANCE.contentType());
  }
}
