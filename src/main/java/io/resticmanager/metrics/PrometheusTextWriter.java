package io.resticmanager.metrics;

/**
 * The Prometheus text exposition format 0.0.4: {@code # HELP} (escaping {@code \\} and line feed) then
 * {@code # TYPE} per family; units are not part of this format and are left out. Stateless and
 * thread-safe; used by the metrics route when the scraper does not ask for OpenMetrics.
 */
public final class PrometheusTextWriter extends MetricsTextWriter {

  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  public static final PrometheusTextWriter INSTANCE = new PrometheusTextWriter();

  private static final byte[] HELP = ascii("# HELP ");
  private static final byte[] TYPE = ascii("# TYPE ");

  private PrometheusTextWriter() {}

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  @Override
  void writeMetadata(MetricFamily family, String type, TextBuffer out) {
    out.append(HELP);
    out.appendAscii(family.name());
    out.append((byte) ' ');
    out.appendEscaped(family.help(), false);
    out.append((byte) '\n');
    out.append(TYPE);
    out.appendAscii(family.name());
    out.append((byte) ' ');
    out.appendAscii(type);
    out.append((byte) '\n');
  }

  @Override
  void writeTrailer(TextBuffer out) {}
}
