package io.resticmanager.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Renders a {@link MetricsSnapshot} as exposition text into a {@link TextBuffer} or an {@link OutputStream}.
 * Owns what the two text formats share: sample lines, label escaping ({@code \\}, {@code "}, line feed),
 * number formatting and the histogram expansion into cumulative {@code _bucket} lines plus {@code _count}
 * and {@code _sum}. The subclasses add the metadata lines and the trailer of their format.
 *
 * <p>Families and rows come out in snapshot order. Stateless and thread-safe: use the {@code INSTANCE}
 * of {@link PrometheusTextWriter} or {@link OpenMetricsTextWriter}. Never sorts, validates or negotiates
 * content types; the caller picks the writer and sends {@link #contentType()}.
 */
public abstract sealed class MetricsTextWriter permits PrometheusTextWriter, OpenMetricsTextWriter {

  private static final byte[] LABELS_END = ascii("\"} ");
  private static final byte[] LE_OPEN = ascii("le=\"");
  private static final byte[] LE_AFTER_LABELS = ascii(",le=\"");
  /** When streaming, the buffer is handed to the stream between rows once it holds this much. */
  private static final int CHUNK = 64 * 1024;

  MetricsTextWriter() {}

  /** The exact {@code Content-Type} header value of this format. */
  public abstract String contentType();

  /** Writes the metadata lines of a family ({@code type} is {@code gauge} or {@code histogram}). */
  abstract void writeMetadata(MetricFamily family, String type, TextBuffer out);

  /** Writes what follows the last family. */
  abstract void writeTrailer(TextBuffer out);

  /** Appends the whole exposition to {@code out}; ends with a line feed (or is empty). */
  public final void write(MetricsSnapshot snapshot, TextBuffer out) {
    try {
      render(snapshot, out, null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen without a stream", e);
    }
  }

  /**
   * Streams the whole exposition to {@code out} in chunks of about 64 KiB, so memory stays flat however
   * large the fleet. Does not flush or close {@code out}.
   */
  public final void write(MetricsSnapshot snapshot, OutputStream out) throws IOException {
    TextBuffer buffer = new TextBuffer(CHUNK + 8 * 1024);
    render(snapshot, buffer, out);
    buffer.writeTo(out);
  }

  /** The whole exposition in a new array. */
  public final byte[] toBytes(MetricsSnapshot snapshot) {
    TextBuffer out = new TextBuffer(estimatedSize(snapshot));
    write(snapshot, out);
    return out.toByteArray();
  }

  /** {@code sink} is null when everything stays in {@code out}. */
  private void render(MetricsSnapshot snapshot, TextBuffer out, OutputStream sink) throws IOException {
    for (MetricFamily family : snapshot.families()) {
      if (family instanceof GaugeFamily gauge) {
        writeMetadata(gauge, "gauge", out);
        writeGauge(gauge, out, sink);
      } else if (family instanceof HistogramFamily histogram) {
        writeMetadata(histogram, "histogram", out);
        writeHistogram(histogram, out, sink);
      }
    }
    writeTrailer(out);
  }

  /** Called only between rows: a histogram row refers back to its own label bytes in the buffer. */
  private static void drain(TextBuffer out, OutputStream sink) throws IOException {
    if (sink != null && out.size() >= CHUNK) {
      out.writeTo(sink);
      out.reset();
    }
  }

  private static void writeGauge(GaugeFamily family, TextBuffer out, OutputStream sink) throws IOException {
    String name = family.name();
    byte[][] pairs = labelPairs(family.labelNames());
    byte[] open = ascii(pairs.length == 0 ? name + " " : name + "{");
    for (GaugeFamily.Row row : family.rows()) {
      out.append(open);
      if (pairs.length > 0) {
        writeLabelValues(pairs, row.labelValues(), out);
        out.append(LABELS_END);
      }
      out.appendDouble(row.value());
      out.append((byte) '\n');
      drain(out, sink);
    }
  }

  /**
   * Per row, the label pairs are escaped once and then copied for every further bucket line and for
   * {@code _count} and {@code _sum}.
   */
  private static void writeHistogram(HistogramFamily family, TextBuffer out, OutputStream sink)
      throws IOException {
    String name = family.name();
    byte[][] pairs = labelPairs(family.labelNames());
    byte[] bucketOpen = ascii(name + "_bucket{");
    byte[] countName = ascii(name + "_count");
    byte[] sumName = ascii(name + "_sum");
    HistogramBuckets buckets = family.buckets();
    int finite = buckets.size();
    for (HistogramFamily.Row row : family.rows()) {
      out.append(bucketOpen);
      int labelsStart = out.size();
      if (pairs.length > 0) {
        writeLabelValues(pairs, row.labelValues(), out);
        out.append((byte) '"');
      }
      int labelsLength = out.size() - labelsStart;
      byte[] leOpen = labelsLength == 0 ? LE_OPEN : LE_AFTER_LABELS;
      long cumulative = 0;
      for (int i = 0; i <= finite; i++) {
        if (i > 0) {
          out.append(bucketOpen);
          out.appendCopy(labelsStart, labelsLength);
        }
        cumulative = i < finite ? cumulative + row.counts[i] : row.count();
        out.append(leOpen);
        out.append(buckets.leBytes(i));
        out.append(LABELS_END);
        out.appendLong(cumulative);
        out.append((byte) '\n');
      }
      writeSuffixed(countName, labelsStart, labelsLength, out);
      out.appendLong(row.count());
      out.append((byte) '\n');
      writeSuffixed(sumName, labelsStart, labelsLength, out);
      out.appendDouble(row.sum());
      out.append((byte) '\n');
      drain(out, sink);
    }
  }

  private static void writeSuffixed(byte[] sampleName, int labelsStart, int labelsLength, TextBuffer out) {
    out.append(sampleName);
    if (labelsLength > 0) {
      out.append((byte) '{');
      out.appendCopy(labelsStart, labelsLength);
      out.append((byte) '}');
    }
    out.append((byte) ' ');
  }

  /** Writes {@code a="x",b="y} (the closing quote is the caller's). */
  private static void writeLabelValues(byte[][] pairs, List<String> values, TextBuffer out) {
    for (int i = 0; i < pairs.length; i++) {
      out.append(pairs[i]);
      out.appendEscaped(values.get(i), true);
    }
  }

  /** {@code a="}, then {@code ",b="}, ...: everything between the label values of a row. */
  private static byte[][] labelPairs(List<String> labelNames) {
    byte[][] pairs = new byte[labelNames.size()][];
    for (int i = 0; i < pairs.length; i++) {
      pairs[i] = ascii((i == 0 ? "" : "\",") + labelNames.get(i) + "=\"");
    }
    return pairs;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Close to the real size for ASCII label values, so that {@link #toBytes} rarely has to grow. */
  private static int estimatedSize(MetricsSnapshot snapshot) {
    long estimate = 16;
    for (MetricFamily family : snapshot.families()) {
      estimate += 3L * (family.name().length() + 16) + family.help().length();
      long perLine = family.name().length() + 24;
      for (String label : family.labelNames()) perLine += label.length() + 4;
      if (family instanceof GaugeFamily gauge) {
        for (GaugeFamily.Row row : gauge.rows()) estimate += perLine + length(row.labelValues());
      } else if (family instanceof HistogramFamily histogram) {
        long lines = histogram.buckets().size() + 3;
        for (HistogramFamily.Row row : histogram.rows()) estimate += lines * (perLine + length(row.labelValues()));
      }
    }
    return (int) Math.min(estimate, Integer.MAX_VALUE - 16);
  }

  private static long length(List<String> values) {
    long length = 0;
    for (String value : values) length += value.length();
    return length;
  }

}
