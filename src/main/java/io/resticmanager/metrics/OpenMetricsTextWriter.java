package io.resticmanager.metrics;

/**
 * OpenMetrics 1.0.0 text: per family {@code # TYPE}, {@code # UNIT} when the family has a unit, then
 * {@code # HELP} (escaping {@code \\}, {@code "} and line feed, as the ABNF's escaped-string requires); the
 * exposition ends with {@code # EOF}. No {@code _created} samples are written. Stateless and thread-safe;
 * used by the metrics route when the {@code Accept} header asks for {@code application/openmetrics-text}.
 */
public final class OpenMetricsTextWriter extends MetricsTextWriter {

  public static final String CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  public static final OpenMetricsTextWriter INSTANCE = new OpenMetricsTextWriter();

  private static final byte[] TYPE = ascii("# TYPE ");
  private static final byte[] UNIT = ascii("# UNIT ");
  private static final byte[] HELP = ascii("# HELP ");
  private static final byte[] EOF = ascii("# EOF\n");

  private OpenMetricsTextWriter() {}

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  @Override
  void writeMetadata(MetricFamily family, String type, TextBuffer out) {
    out.append(TYPE);
    out.appendAscii(family.name());
    out.append((byte) ' ');
    out.appendAscii(type);
    out.append((byte) '\n');
    if (!family.unit().isEmpty()) {
      out.append(UNIT);
      out.appendAscii(family.name());
      out.append((byte) ' ');
      out.appendAscii(family.unit());
      out.append((byte) '\n');
    }
    out.append(HELP);
    out.appendAscii(family.name());
    out.append((byte) ' ');
    out.appendEscaped(family.help(), true);
    out.append((byte) '\n');
  }

  @Override
  void writeTrailer(TextBuffer out) {
    out.append(EOF);
  }
}
