package io.resticmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/** The parts, length and array forms of {@link MetricsTextWriter} against one pass into a single buffer. */
class MetricsTextWriterPartsTest {

  private static MetricsSnapshot large() {
    List<HistogramFamily.Row> histogramRows = new ArrayList<>();
    List<GaugeFamily.Row> gaugeRows = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      histogramRows.add(HistogramFamily.Row.of(List.of("job-" + i, "ü\"" + i), new long[] {i % 3, 1, 0}, i * 0.25, i % 3 + 2));
      gaugeRows.add(GaugeFamily.Row.of(1_700_000_000.123 + i, "host-" + i, "backup"));
    }
    return MetricsSnapshot.of(
        new HistogramFamily("h_seconds", "big", "seconds", List.of("job", "odd"), HistogramBuckets.of(1, 2, 3),
            histogramRows),
        GaugeFamily.of("g", "per host", List.of("host", "kind"), gaugeRows),
        GaugeFamily.of("after", "last", List.of(), List.of(GaugeFamily.Row.of(1))));
  }

  private static byte[] onePass(MetricsTextWriter writer, MetricsSnapshot snapshot) {
    TextBuffer buffer = new TextBuffer(1);
    writer.write(snapshot, buffer);
    return buffer.toByteArray();
  }

  /** The parts' pieces in order; each part's length goes to {@code sizes}. Checks what a part says of itself. */
  static byte[] concatenated(MetricsTextWriter.Parts parts, List<Integer> sizes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (parts.hasNext()) {
      int before = out.size();
      long told = parts.next((bytes, offset, length) -> {
        assertTrue(length > 0, "an empty piece");
        out.write(bytes, offset, length);
      });
      assertEquals(out.size() - before, told, "the length a part reports");
      sizes.add((int) told);
    }
    return out.toByteArray();
  }

  @Test
  void partsConcatenateToTheWholeExpositionInBothFormats() {
    MetricsSnapshot snapshot = large();
    for (MetricsTextWriter writer : List.of(PrometheusTextWriter.INSTANCE, OpenMetricsTextWriter.INSTANCE)) {
      byte[] whole = onePass(writer, snapshot);
      for (int chunkBytes : new int[] {16 * 1024, 64 * 1024}) {
        List<Integer> sizes = new ArrayList<>();
        assertArrayEquals(whole, concatenated(writer.parts(snapshot, chunkBytes), sizes));
        assertTrue(sizes.size() > 4, "several chunks, not " + sizes);
        for (int i = 0; i < sizes.size(); i++) {
          int size = sizes.get(i);
          boolean last = i == sizes.size() - 1;
          assertTrue(size > 0 && (last || size >= chunkBytes) && size < chunkBytes + 16 * 1024,
              "chunk of " + size + " bytes for " + chunkBytes);
        }
      }
      assertArrayEquals(whole, writer.toBytes(snapshot));
      assertEquals(whole.length, writer.length(snapshot));
    }
  }

  @Test
  void anEmptySnapshotIsOnePart() {
    MetricsTextWriter.Parts prometheus = PrometheusTextWriter.INSTANCE.parts(MetricsSnapshot.of(), 64 * 1024);
    List<Integer> sizes = new ArrayList<>();
    assertEquals(0, concatenated(prometheus, sizes).length);
    assertEquals(List.of(0), sizes);
    assertThrows(NoSuchElementException.class, () -> prometheus.next((b, o, l) -> { }));
    MetricsTextWriter.Parts openMetrics = OpenMetricsTextWriter.INSTANCE.parts(MetricsSnapshot.of(), 64 * 1024);
    assertEquals("# EOF\n", new String(concatenated(openMetrics, sizes), java.nio.charset.StandardCharsets.UTF_8));
    assertFalse(openMetrics.hasNext());
  }

  @Test
  void aSmallExpositionIsTheSameAsOnePass() {
    MetricsSnapshot snapshot = WriterFixtures.small();
    for (MetricsTextWriter writer : List.of(PrometheusTextWriter.INSTANCE, OpenMetricsTextWriter.INSTANCE)) {
      assertArrayEquals(onePass(writer, snapshot), writer.toBytes(snapshot));
      assertEquals(onePass(writer, snapshot).length, writer.length(snapshot));
      assertEquals(onePass(writer, MetricsSnapshot.of()).length, writer.length(MetricsSnapshot.of()));
    }
  }
}
