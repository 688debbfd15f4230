package io.resticmanager.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What both formats share: numbers, label escaping, UTF-8, locale independence, buffer reuse. */
class MetricsTextWriterTest {

  static String text(MetricsTextWriter writer, MetricsSnapshot snapshot) {
    return new String(writer.toBytes(snapshot), UTF_8);
  }

  private static String value(double v) {
    String text = text(PrometheusTextWriter.INSTANCE, 
        MetricsSnapshot.of(GaugeFamily.of("m", "h", List.of(), List.of(GaugeFamily.Row.of(v)))));
    String line = text.lines().filter(l -> l.startsWith("m ")).findFirst().orElseThrow();
    return line.substring(2);
  }

  private static String labelLine(String labelValue) {
    String text = text(PrometheusTextWriter.INSTANCE, 
        MetricsSnapshot.of(GaugeFamily.of("m", "h", List.of("l"), List.of(GaugeFamily.Row.of(1, labelValue)))));
    return text.substring(text.indexOf("\nm{") + 1);
  }

  @Test
  void integralValuesHaveNeitherPointNorExponent() {
    assertEquals("0", value(0));
    assertEquals("0", value(-0.0));
    assertEquals("3", value(3));
    assertEquals("-42", value(-42));
    assertEquals("1700000000", value(1.7e9));
    assertEquals("1000000000000000", value(1e15));
    assertEquals("9007199254740992", value(0x1p53));
  }

  @Test
  void specialValuesAreSpelledAsPrometheusExpects() {
    assertEquals("NaN", value(Double.NaN));
    assertEquals("+Inf", value(Double.POSITIVE_INFINITY));
    assertEquals("-Inf", value(Double.NEGATIVE_INFINITY));
  }

  @Test
  void millisecondValuesArePlainDecimals() {
    assertEquals("1700000000.123", value(1700000000123L / 1000.0));
    assertEquals("1699990000.12", value(1699990000120L / 1000.0));
    assertEquals("0.5", value(0.5));
    assertEquals("-0.25", value(-0.25));
    assertEquals("0.005", value(0.005));
    assertEquals("42.05", value(42.05));
  }

  @Test
  void otherValuesReadBackExactly() {
    for (double v : new double[] {1e-4, 1.0 / 3, 1e300, -1e300, Double.MIN_VALUE, Double.MAX_VALUE, 123456.789012, 1e20}) {
      assertEquals(v, Double.parseDouble(value(v)), "for " + v);
    }
  }

  @Test
  void randomValuesReadBackExactly() {
    Random random = new Random(20240601);
    for (int i = 0; i < 2000; i++) {
      double v = switch (i % 4) {
        case 0 -> random.nextLong() / 1000.0;
        case 1 -> (random.nextInt() & 0x7fffffff) / 1000.0;
        case 2 -> random.nextDouble() * Math.pow(10, random.nextInt(40) - 20);
        default -> Double.longBitsToDouble(random.nextLong());
      };
      if (Double.isNaN(v)) continue;
      String text = value(v);
      assertEquals(v, Double.parseDouble(text.replace("Inf", "Infinity")), "for " + v + " written as " + text);
    }
  }

  @Test
  void labelValuesEscapeBackslashQuoteAndNewline() {
    assertEquals("m{l=\"a\\\\b\\\"c\\nd\"} 1\n", labelLine("a\\b\"c\nd"));
  }

  @Test
  void labelValuesAreUtf8() {
    String value = "Zürich ☃ \uD83D\uDE00 tab\there";
    assertArrayEquals(("m{l=\"" + value + "\"} 1\n").getBytes(UTF_8), labelLine(value).getBytes(UTF_8));
  }

  @Test
  void anUnpairedSurrogateBecomesAQuestionMark() {
    assertEquals("m{l=\"a?b?\"} 1\n", labelLine("a\uD83Db\uDE00"));
  }

  @Test
  void outputIsByteIdenticalUnderAGermanLocale() {
    MetricsSnapshot snapshot = numbersSnapshot();
    byte[] prometheus = PrometheusTextWriter.INSTANCE.toBytes(snapshot);
    byte[] openMetrics = OpenMetricsTextWriter.INSTANCE.toBytes(snapshot);
    Locale saved = Locale.getDefault();
    Locale savedFormat = Locale.getDefault(Locale.Category.FORMAT);
    Locale savedDisplay = Locale.getDefault(Locale.Category.DISPLAY);
    try {
      Locale.setDefault(Locale.GERMANY);
      assertArrayEquals(prometheus, PrometheusTextWriter.INSTANCE.toBytes(snapshot));
      assertArrayEquals(openMetrics, OpenMetricsTextWriter.INSTANCE.toBytes(snapshot));
      assertArrayEquals(prometheus, PrometheusTextWriter.INSTANCE.toBytes(numbersSnapshot()));
    } finally {
      Locale.setDefault(saved);
      Locale.setDefault(Locale.Category.FORMAT, savedFormat);
      Locale.setDefault(Locale.Category.DISPLAY, savedDisplay);
    }
  }

  @Test
  void aReusedBufferGivesTheSameBytesAfterReset() {
    MetricsSnapshot snapshot = numbersSnapshot();
    TextBuffer buffer = new TextBuffer(16);
    PrometheusTextWriter.INSTANCE.write(snapshot, buffer);
    byte[] first = buffer.toByteArray();
    buffer.reset();
    PrometheusTextWriter.INSTANCE.write(snapshot, buffer);
    assertArrayEquals(first, buffer.toByteArray());
    assertArrayEquals(first, PrometheusTextWriter.INSTANCE.toBytes(snapshot));
  }

  @Test
  void manyRowsGrowTheBufferWithoutLosingAnything() {
    List<GaugeFamily.Row> rows = new ArrayList<>();
    StringBuilder expected = new StringBuilder("# HELP m h\n# TYPE m gauge\n");
    for (int i = 0; i < 5000; i++) {
      String host = "host-" + i + "-ä".repeat(i % 7);
      rows.add(GaugeFamily.Row.of(i, host));
      expected.append("m{host=\"").append(host).append("\"} ").append(i).append('\n');
    }
    TextBuffer buffer = new TextBuffer(1);
    PrometheusTextWriter.INSTANCE.write(MetricsSnapshot.of(GaugeFamily.of("m", "h", List.of("host"), rows)), buffer);
    assertEquals(expected.toString(), buffer.toString());
  }

  @Test
  void streamingInChunksGivesTheSameBytesAsOneBuffer() throws Exception {
    List<HistogramFamily.Row> rows = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      rows.add(HistogramFamily.Row.of(List.of("job-" + i, "ü\"" + i), new long[] {i % 3, 1, 0}, i * 0.25, i % 3 + 2));
    }
    MetricsSnapshot snapshot = MetricsSnapshot.of(
        new HistogramFamily("h", "big", "", List.of("job", "odd"), HistogramBuckets.of(1, 2, 3), rows),
        GaugeFamily.of("g", "after", List.of(), List.of(GaugeFamily.Row.of(1))));
    for (MetricsTextWriter writer : List.of(PrometheusTextWriter.INSTANCE, OpenMetricsTextWriter.INSTANCE)) {
      ByteArrayOutputStream streamed = new ByteArrayOutputStream();
      writer.write(snapshot, streamed);
      assertTrue(streamed.size() > 4 * 64 * 1024, "large enough to be written in several chunks");
      assertArrayEquals(writer.toBytes(snapshot), streamed.toByteArray());
    }
  }

  @Test
  void anEmptySnapshotIsEmptyOrJustEof() {
    assertEquals("", text(PrometheusTextWriter.INSTANCE, MetricsSnapshot.of()));
    assertEquals("# EOF\n", text(OpenMetricsTextWriter.INSTANCE, MetricsSnapshot.of()));
  }

  private static MetricsSnapshot numbersSnapshot() {
    List<GaugeFamily.Row> rows = new ArrayList<>();
    double[] values = {0.5, 1234.5678, 1e-4, 1.0 / 3, 1700000000.123, 2.5e20, -7.25, Double.NaN};
    for (int i = 0; i < values.length; i++) rows.add(GaugeFamily.Row.of(values[i], "v" + i));
    return MetricsSnapshot.of(
        GaugeFamily.of("m", "numbers", List.of("i"), rows),
        new HistogramFamily("h_seconds", "histogram", "seconds", List.of(), HistogramBuckets.of(0.0001, 0.25, 1e6),
            List.of(HistogramFamily.Row.of(List.of(), new long[] {1, 2, 3}, 1234.5678, 7))));
  }
}
