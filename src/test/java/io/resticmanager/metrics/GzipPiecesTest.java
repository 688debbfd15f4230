package io.resticmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.BuildInfo;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * {@link GzipPieces} over a fleet's parts, whose hosts' blocks come deflated ahead of time: the JDK's own
 * gzip reader gives back exactly the exposition, in both formats and whatever the part size, the trailer
 * included (GZIPInputStream checks its CRC-32 and length), and it is compressed like a single stream.
 */
class GzipPiecesTest {

  /** A fleet whose rows are kept by {@link HostRows} (deflated blocks), or rendered once (none) when not {@code kept}. */
  private static MetricsSnapshot fleet(int hosts) {
    return fleet(hosts, true);
  }

  private static MetricsSnapshot fleet(int hosts, boolean kept) {
    List<HostSample> list = new ArrayList<>();
    for (int i = 0; i < hosts; i++) {
      list.add(new HostSample("host-" + i + ".example.net", i % 3 != 0, 1_700_000_000_000L + i * 37L,
          Map.of(JobKind.BACKUP, 1_699_990_000_000L + i, JobKind.CHECK, 1_699_000_000_000L + i),
          Map.of(JobKind.BACKUP, 1_699_990_000_000L + i), i * 1_000L, i % 4, "0.1.0", "0.17.3", "linux/amd64"));
    }
    HostRows rows = new HostRows();
    list.forEach(rows::put);
    return ServerMetrics.build(JobDurations.empty(),
        new FleetSample(list, hosts / 2, Map.of(), kept ? rows.render() : null), new BuildInfo("1.0.0", "abc", "17"));
  }

  private static byte[] gzip(MetricsTextWriter writer, MetricsSnapshot snapshot, int partBytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MetricsTextWriter.Parts parts = writer.parts(snapshot, partBytes);
    try (GzipPieces zipped = new GzipPieces()) {
      zipped.to((bytes, offset, length) -> out.write(bytes, offset, length));
      while (parts.hasNext()) parts.next(zipped);
      zipped.finish();
    }
    return out.toByteArray();
  }

  private static byte[] gunzip(byte[] gz) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  @Test
  void aGzippedFleetInflatesToItsExpositionInBothFormatsAndAnyPartSize() throws IOException {
    MetricsSnapshot snapshot = fleet(2_000);
    for (MetricsTextWriter writer : List.of(PrometheusTextWriter.INSTANCE, OpenMetricsTextWriter.INSTANCE)) {
      byte[] text = writer.toBytes(snapshot);
      for (int partBytes : new int[] {1, 8 * 1024, 256 * 1024}) {
        byte[] gz = gzip(writer, snapshot, partBytes);
        assertArrayEquals(text, gunzip(gz), "parts of " + partBytes);
        assertTrue(gz.length * 8 < text.length, gz.length + " gzipped bytes of " + text.length);
      }
    }
  }

  @Test
  void blocksWithoutDeflatedFormsAreCompressedAsTheyAreSent() throws IOException {
    MetricsSnapshot snapshot = fleet(2_000, false);
    byte[] text = PrometheusTextWriter.INSTANCE.toBytes(snapshot);
    byte[] gz = gzip(PrometheusTextWriter.INSTANCE, snapshot, 64 * 1024);
    assertArrayEquals(text, gunzip(gz));
    assertTrue(gz.length * 8 < text.length, gz.length + " gzipped bytes of " + text.length);
  }

  @Test
  void itCompressesAboutAsWellAsOneStream() throws IOException {
    MetricsSnapshot snapshot = fleet(5_000);
    byte[] text = PrometheusTextWriter.INSTANCE.toBytes(snapshot);
    ByteArrayOutputStream single = new ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(single) {
      {
        def.setLevel(GzipPieces.LEVEL);
      }
    }) {
      out.write(text);
    }
    byte[] pieces = gzip(PrometheusTextWriter.INSTANCE, snapshot, 256 * 1024);
    assertTrue(pieces.length < single.size() * 1.5, pieces.length + " against one stream's " + single.size());
  }

  @Test
  void anEmptyExpositionIsAnEmptyGzipStream() throws IOException {
    byte[] gz = gzip(PrometheusTextWriter.INSTANCE, MetricsSnapshot.of(), 1024);
    assertEquals(0, gunzip(gz).length);
  }

  @Test
  void aSegmentStandsAnywhereInADeflateStream() throws IOException {
    byte[] raw = "restic_manager_host_online{host=\"a\"} 1\n".repeat(500).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GzipPieces zipped = new GzipPieces()) {
      zipped.to((bytes, offset, length) -> out.write(bytes, offset, length));
      zipped.piece(raw, 0, 100);
      zipped.block(raw, GzipPieces.segment(raw));
      zipped.piece(raw, 7, 300);
      zipped.block(raw, GzipPieces.segment(raw));
      zipped.finish();
    }
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(raw, 0, 100);
    expected.write(raw, 0, raw.length);
    expected.write(raw, 7, 300);
    expected.write(raw, 0, raw.length);
    assertArrayEquals(expected.toByteArray(), gunzip(out.toByteArray()));
  }
}
