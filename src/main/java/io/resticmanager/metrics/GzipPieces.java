package io.resticmanager.metrics;

import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Gzip (RFC 1952) of an exposition handed over as pieces ({@link MetricsTextWriter#parts}), without
 * compressing the hosts' rows at scrape time: {@link HostRows} deflates each block once, when it builds it,
 * and a deflate stream may be cut into independently compressed segments that each end on a byte boundary
 * (a sync flush), as {@code pigz} does. Here the hosts' blocks are such segments, copied as they are; the
 * rest (metadata, the small families) is deflated now, each piece with a full flush, so that none of it
 * refers back into a block it did not compress. The trailer's CRC-32 and length are of everything handed
 * over. A block handed over without a deflated form is compressed here like the rest. For 10,000 hosts
 * the result is about 21 times smaller than the text; one stream over the whole text would be 26 times
 * (the blocks are compressed apart, each without the others as history).
 *
 * <p>Its output goes to the sink given by {@link #to}, which the caller may change between pieces (one per
 * HTTP part). Not thread-safe; {@link #close()} frees the native compressor when the body is done or
 * abandoned.
 */
public final class GzipPieces implements MetricsTextWriter.PieceSink, AutoCloseable {
  /** Deflate's fastest level: an exposition is repetitive text and still shrinks about 25-fold. */
  public static final int LEVEL = 1;
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  private final Deflater deflater = new Deflater(LEVEL, true);
  private final CRC32 crc = new CRC32();
  private final byte[] buffer = new byte[32 * 1024];
  private MetricsTextWriter.PieceSink out;
  private long size;
  private boolean started;

  /** Where output goes from now on. */
  public void to(MetricsTextWriter.PieceSink sink) {
    this.out = sink;
  }

  @Override
  public void piece(byte[] bytes, int offset, int length) {
    start();
    crc.update(bytes, offset, length);
    size += length;
    deflater.setInput(bytes, offset, length);
    // A flush is complete, all input taken, once a call leaves room in the buffer.
    int n;
    do {
      n = deflater.deflate(buffer, 0, buffer.length, Deflater.FULL_FLUSH);
      if (n > 0) out.piece(Arrays.copyOf(buffer, n), 0, n);
    } while (n == buffer.length);
  }

  @Override
  public void block(byte[] raw, byte[] deflated) {
    if (deflated == null) {
      piece(raw, 0, raw.length);
      return;
    }
    start();
    crc.update(raw, 0, raw.length);
    size += raw.length;
    out.piece(deflated, 0, deflated.length);
  }

  /** Ends the stream (its last block and the trailer) and frees the compressor. */
  public void finish() {
    start();
    deflater.finish();
    while (!deflater.finished()) {
      int n = deflater.deflate(buffer);
      if (n > 0) out.piece(Arrays.copyOf(buffer, n), 0, n);
    }
    long crc32 = crc.getValue();
    byte[] trailer = new byte[8];
    for (int i = 0; i < 4; i++) {
      trailer[i] = (byte) (crc32 >>> (8 * i));
      trailer[4 + i] = (byte) (size >>> (8 * i));
    }
    out.piece(trailer, 0, trailer.length);
    close();
  }

  /** Frees the compressor; no output after this. Safe to call more than once. */
  @Override
  public void close() {
    deflater.end();
  }

  private void start() {
    if (started) return;
    started = true;
    out.piece(HEADER.clone(), 0, HEADER.length);
  }

  /**
   * {@code raw} deflated on its own and ended with a sync flush: a segment that may stand anywhere in a
   * deflate stream ({@link #block}). Empty for an empty block.
   */
  static byte[] segment(byte[] raw) {
    if (raw.length == 0) return raw;
    Deflater d = new Deflater(LEVEL, true);
    try {
      d.setInput(raw);
      byte[] out = new byte[Math.max(64, raw.length / 4)];
      int size = 0;
      while (true) {
        size += d.deflate(out, size, out.length - size, Deflater.SYNC_FLUSH);
        if (size < out.length) return Arrays.copyOf(out, size);
        out = Arrays.copyOf(out, out.length * 2);
      }
    } finally {
      d.end();
    }
  }
}
