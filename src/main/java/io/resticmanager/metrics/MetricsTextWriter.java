package io.resticmanager.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Renders a {@link MetricsSnapshot} as exposition text into a {@link TextBuffer}, an {@link OutputStream},
 * a byte array or lazily rendered parts.
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

  /** Takes an exposition piece by piece ({@link #parts}). */
  @FunctionalInterface
  public interface PieceSink {
    /**
     * {@code bytes[offset, offset + length)} is the next piece: never changed afterwards by the writer or
     * the snapshot, so it may be kept (wrapped, not copied) as long as needed. Never empty.
     */
    void piece(byte[] bytes, int offset, int length);

    /**
     * The next piece is a block of hosts' rows, {@code raw}, which may also come deflated on its own
     * ({@link GzipPieces#segment}; null if not); a sink that compresses may use {@code deflated} as it is.
     * By default the raw piece.
     */
    default void block(byte[] raw, byte[] deflated) {
      piece(raw, 0, raw.length);
    }
  }

  /**
   * The exposition as consecutive parts, rendered lazily as they are taken: a caller that sends each part
   * before asking for the next never holds the whole body. A part is handed over as pieces: what is
   * rendered now (metadata, the small families) in new arrays, and the hosts' rows as the blocks
   * {@link HostRows} keeps, not copied, so a part allocates little beyond the caller's wrappers. Every
   * part but the last holds at least {@code partBytes} (it ends at the first row boundary past that). The
   * parts together equal {@link #toBytes}. Not thread-safe; the snapshot may be shared.
   */
  public final Parts parts(MetricsSnapshot snapshot, int partBytes) {
    return new Parts(new Rendering(snapshot), partBytes);
  }

  /** The parts of one exposition, from {@link #parts}. */
  public static final class Parts {
    private final Rendering rendering;
    private final TextBuffer buffer;
    private final int partBytes;
    private boolean done;

    private Parts(Rendering rendering, int partBytes) {
      this.rendering = rendering;
      this.partBytes = partBytes;
      this.buffer = new TextBuffer(16 * 1024);
    }

    public boolean hasNext() {
      return !done;
    }

    /** Hands the next part to {@code sink}, piece by piece, and returns its length in bytes (0 only for an empty exposition). */
    public long next(PieceSink sink) {
      if (done) throw new NoSuchElementException();
      buffer.reset();
      rendering.sink = sink;
      rendering.handed = 0;
      done = rendering.fill(buffer, partBytes);
      rendering.handOver(buffer);
      return rendering.handed;
    }
  }

  /**
   * The exact number of bytes the exposition of {@code snapshot} has (what {@link #parts} hand over in all),
   * without rendering it: the small families are rendered into a scratch buffer and counted, the per-host
   * rows are counted from their rendered blocks. Costs a small fraction of rendering a large fleet.
   */
  public final long length(MetricsSnapshot snapshot) {
    Rendering rendering = new Rendering(snapshot);
    rendering.measuring = true;
    TextBuffer scratch = new TextBuffer(16 * 1024);
    long total = 0;
    boolean done;
    do {
      scratch.reset();
      done = rendering.fill(scratch, 8 * 1024);
      total += scratch.size();
    } while (!done);
    return total + rendering.measured;
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
    private GaugeLines gaugeLines;
    private HostGaugeFamily hostGauge;
    private HistogramFamily histogram;
    private byte[][] pairs;
    private byte[] open;
    private byte[] countName;
    private byte[] sumName;
    /** Counting, not copying, the per-host rows ({@link #length}); their bytes add up in {@link #measured}. */
    private boolean measuring;
    private long measured;
    /** Handing pieces to this sink ({@link Parts}), not copying the per-host rows; bytes so handed this part. */
    private PieceSink sink;
    private long handed;

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
        if (out.size() + handed >= until) return false;
        if (hostGauge != null) {
          byte[] block = hostGauge.blocks().get(row);
          if (measuring) {
            measured += block.length;
          } else if (sink != null && block.length > 0) {
            handOver(out);
            sink.block(block, hostGauge.deflated() == null ? null : hostGauge.deflated().get(row));
            handed += block.length;
          } else {
            out.append(block);
          }
        } else if (gauge != null) {
          GaugeFamily.Row r = gauge.rows().get(row);
          gaugeLines.write(r.labelValues(), r.value(), out);
        } else {
          writeHistogramRow(histogram.rows().get(row), out);
        }
        row++;
      }
    }

    /** Hands what {@code out} holds to the sink as one piece of its own, and empties it. */
    void handOver(TextBuffer out) {
      if (out.size() == 0) return;
      sink.piece(out.toByteArray(), 0, out.size());
      handed += out.size();
      out.reset();
    }

    private void start(MetricFamily f, TextBuffer out) {
      row = 0;
      rows = f.size();
      gauge = null;
      hostGauge = null;
      histogram = null;
      if (f instanceof HostGaugeFamily g) {
        hostGauge = g;
        writeMetadata(g, "gauge", out);
      } else if (f instanceof GaugeFamily g) {
        gauge = g;
        gaugeLines = new GaugeLines(g.name(), g.labelNames());
        writeMetadata(g, "gauge", out);
      } else {
        HistogramFamily h = (HistogramFamily) f;
        histogram = h;
        pairs = labelPairs(h.labelNames());
        open = ascii(h.name() + "_bucket{");
        countName = ascii(h.name() + "_count");
        sumName = ascii(h.name() + "_sum");
        writeMetadata(h, "histogram", out);
      }
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

  /**
   * Writes the sample lines of one gauge family, {@code name{a="x",b="y"} value}, which both text formats
   * share; the constant bytes are prepared once per family. Used for the rows of a {@link GaugeFamily} and
   * to render a host's rows ahead of time ({@link HostRows}). Immutable.
   */
  static final class GaugeLines {
    private final byte[] open;
    private final byte[][] pairs;

    GaugeLines(String name, List<String> labelNames) {
      pairs = labelPairs(labelNames);
      open = ascii(pairs.length == 0 ? name + " " : name + "{");
    }

    /** One line; {@code labelValues} in the order of the label names. */
    void write(List<String> labelValues, double value, TextBuffer out) {
      out.append(open);
      if (pairs.length > 0) {
        writeLabelValues(pairs, labelValues, out);
        out.append(LABELS_END);
      }
      out.appendDouble(value);
      out.append((byte) '\n');
    }
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
