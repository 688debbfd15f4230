package io.resticmanager.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Renders a {@link MetricsSnapshot} as exposition text into a {@link TextBuffer}, an {@link OutputStream},
 * a byte array or lazily rendered chunks.
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
    new Rendering(snapshot).fill(out, Integer.MAX_VALUE);
  }

  /**
   * Streams the whole exposition to {@code out} in chunks of about 64 KiB, so memory stays flat however
   * large the fleet. Does not flush or close {@code out}.
   */
  public final void write(MetricsSnapshot snapshot, OutputStream out) throws IOException {
    TextBuffer buffer = new TextBuffer(CHUNK + 8 * 1024);
    Rendering rendering = new Rendering(snapshot);
    while (!rendering.fill(buffer, CHUNK)) {
      buffer.writeTo(out);
      buffer.reset();
    }
    buffer.writeTo(out);
  }

  /**
   * The exposition as consecutive chunks, rendered lazily as they are taken: a caller that sends each
   * chunk before asking for the next (a chunked HTTP entity) never holds the whole body. Every chunk but
   * the last holds at least {@code chunkBytes} (it ends at the first row boundary past that), so the
   * caller picks the size that suits its transport. Each array is new and exactly filled; their
   * concatenation equals {@link #toBytes}. The iterator is not thread-safe; the snapshot may be shared.
   */
  public final Iterator<byte[]> chunks(MetricsSnapshot snapshot, int chunkBytes) {
    Rendering rendering = new Rendering(snapshot);
    TextBuffer buffer = new TextBuffer(chunkBytes + 8 * 1024);
    return new Iterator<>() {
      private boolean done;

      @Override
      public boolean hasNext() {
        return !done;
      }

      @Override
      public byte[] next() {
        if (done) throw new NoSuchElementException();
        buffer.reset();
        done = rendering.fill(buffer, chunkBytes);
        return buffer.toByteArray();
      }
    };
  }

  /**
   * The whole exposition in a new array. Rendered in chunks and copied once into an array of the exact
   * size: about twice the body in allocation, where growing one buffer and trimming it cost three times.
   */
  public final byte[] toBytes(MetricsSnapshot snapshot) {
    Rendering rendering = new Rendering(snapshot);
    TextBuffer buffer = new TextBuffer(16 * 1024);
    List<byte[]> parts = new ArrayList<>();
    long total = 0;
    boolean done;
    do {
      buffer.reset();
      done = rendering.fill(buffer, CHUNK);
      if (done && parts.isEmpty()) return buffer.toByteArray();
      parts.add(buffer.toByteArray());
      total += buffer.size();
    } while (!done);
    if (total > Integer.MAX_VALUE - 16) throw new IllegalStateException("exposition larger than 2 GiB");
    byte[] out = new byte[(int) total];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, out, at, part.length);
      at += part.length;
    }
    return out;
  }

  /**
   * One pass over a snapshot that can stop between rows and resume: families and rows in snapshot order,
   * each family's metadata before its first row, the trailer last. Per family the constant bytes (sample
   * name openings, label-name pairs) are prepared once.
   */
  private final class Rendering {
    private final List<MetricFamily> families;
    private int family = -1;
    private int row;
    private int rows;
    private GaugeFamily gauge;
    private HistogramFamily histogram;
    private byte[][] pairs;
    private byte[] open;
    private byte[] countName;
    private byte[] sumName;

    Rendering(MetricsSnapshot snapshot) {
      this.families = snapshot.families();
    }

    /**
     * Renders into {@code out} until it holds at least {@code until} bytes (checked between rows) or
     * everything is written; true when everything, trailer included, is written.
     */
    boolean fill(TextBuffer out, int until) {
      while (true) {
        while (row >= rows) {
          if (++family >= families.size()) {
            writeTrailer(out);
            rows = 0;
            return true;
          }
          start(families.get(family), out);
        }
        if (out.size() >= until) return false;
        if (gauge != null) {
          writeGaugeRow(gauge.rows().get(row), out);
        } else {
          writeHistogramRow(histogram.rows().get(row), out);
        }
        row++;
      }
    }

    private void start(MetricFamily f, TextBuffer out) {
      row = 0;
      rows = f.size();
      pairs = labelPairs(f.labelNames());
      if (f instanceof GaugeFamily g) {
        gauge = g;
        histogram = null;
        open = ascii(pairs.length == 0 ? g.name() + " " : g.name() + "{");
        writeMetadata(g, "gauge", out);
      } else {
        HistogramFamily h = (HistogramFamily) f;
        gauge = null;
        histogram = h;
        open = ascii(h.name() + "_bucket{");
        countName = ascii(h.name() + "_count");
        sumName = ascii(h.name() + "_sum");
        writeMetadata(h, "histogram", out);
      }
    }

    private void writeGaugeRow(GaugeFamily.Row r, TextBuffer out) {
      out.append(open);
      if (pairs.length > 0) {
        writeLabelValues(pairs, r.labelValues(), out);
        out.append(LABELS_END);
      }
      out.appendDouble(r.value());
      out.append((byte) '\n');
    }

    /**
     * The label pairs are escaped once and then copied for every further bucket line and for
     * {@code _count} and {@code _sum}: the row refers back to its own bytes in the buffer.
     */
    private void writeHistogramRow(HistogramFamily.Row r, TextBuffer out) {
      HistogramBuckets buckets = histogram.buckets();
      int finite = buckets.size();
      out.append(open);
      int labelsStart = out.size();
      if (pairs.length > 0) {
        writeLabelValues(pairs, r.labelValues(), out);
        out.append((byte) '"');
      }
      int labelsLength = out.size() - labelsStart;
      byte[] leOpen = labelsLength == 0 ? LE_OPEN : LE_AFTER_LABELS;
      long cumulative = 0;
      for (int i = 0; i <= finite; i++) {
        if (i > 0) {
          out.append(open);
          out.appendCopy(labelsStart, labelsLength);
        }
        cumulative = i < finite ? cumulative + r.counts[i] : r.count();
        out.append(leOpen);
        out.append(buckets.leBytes(i));
        out.append(LABELS_END);
        out.appendLong(cumulative);
        out.append((byte) '\n');
      }
      writeSuffixed(countName, labelsStart, labelsLength, out);
      out.appendLong(r.count());
      out.append((byte) '\n');
      writeSuffixed(sumName, labelsStart, labelsLength, out);
      out.appendDouble(r.sum());
      out.append((byte) '\n');
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
}
