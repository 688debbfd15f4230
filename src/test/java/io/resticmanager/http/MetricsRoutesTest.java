package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.metrics.OpenMetricsTextWriter;
import io.resticmanager.metrics.PrometheusTextWriter;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pure parts of {@link MetricsRoutes}: content negotiation and the exact content types. */
class MetricsRoutesTest {

  @Test
  void openMetricsIsChosenOnlyWhenAcceptListsItWithAWeightAboveZero() {
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.empty()));
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.of("text/plain;version=0.0.4")));
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.of("*/*")));
    assertTrue(MetricsRoutes.wantsOpenMetrics(Optional.of("application/openmetrics-text")));
    assertTrue(MetricsRoutes.wantsOpenMetrics(Optional.of(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
            + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")));
    assertTrue(MetricsRoutes.wantsOpenMetrics(Optional.of("Application/OpenMetrics-Text; version=1.0.0")));
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.of("application/openmetrics-text;q=0, text/plain")));
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.of("application/openmetrics-text; version=1.0.0; q=0.0")));
    assertFalse(MetricsRoutes.wantsOpenMetrics(Optional.of("application/openmetrics-textual")));
  }

  @Test
  void gzipIsChosenOnlyWhenAcceptEncodingListsItWithAWeightAboveZero() {
    assertFalse(MetricsRoutes.acceptsGzip(Optional.empty()));
    assertFalse(MetricsRoutes.acceptsGzip(Optional.of("identity")));
    assertFalse(MetricsRoutes.acceptsGzip(Optional.of("gzip;q=0")));
    assertFalse(MetricsRoutes.acceptsGzip(Optional.of("br, gzip; q=0.000")));
    assertTrue(MetricsRoutes.acceptsGzip(Optional.of("gzip")));
    assertTrue(MetricsRoutes.acceptsGzip(Optional.of("deflate, GZIP;q=0.5")));
  }

  @Test
  void contentTypesRenderExactlyAsTheContractWritesThem() {
    assertEquals("text/plain; version=0.0.4; charset=utf-8",
        MetricsRoutes.exactly(PrometheusTextWriter.CONTENT_TYPE).toString());
    assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8",
        MetricsRoutes.exactly(OpenMetricsTextWriter.CONTENT_TYPE).toString());
  }
}
