package io.resticmanager.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte array the writers append UTF-8 text to. Reusable: {@link #reset()} keeps the capacity,
 * so a caller that renders repeatedly from one thread allocates nothing once the buffer has grown. Not
 * thread-safe; never shared between concurrent scrapes.
 *
 * <p>The package-private appenders format numbers and escape strings without going through
 * {@code String.format}, the default {@code Locale} or intermediate strings, except for the rare double
 * that is neither integral nor of millisecond precision.
 */
public final class TextBuffer {

  private byte[] bytes;
  private int size;

  public TextBuffer() {
    this(8192);
  }

  public TextBuffer(int initialCapacity) {
    bytes = new byte[Math.max(16, initialCapacity)];
  }

  /** Forgets the content, keeps the capacity. */
  public void reset() {
    size = 0;
  }

  public int size() {
    return size;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(bytes, size);
  }

  public void writeTo(OutputStream out) throws IOException {
    out.write(bytes, 0, size);
  }

  @Override
  public String toString() {
    return new String(bytes, 0, size, StandardCharsets.UTF_8);
  }

  void ensure(int extra) {
    int needed = size + extra;
    if (needed > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
    }
  }

  void append(byte b) {
    ensure(1);
    bytes[size++] = b;
  }

  void append(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, bytes, size, b.length);
    size += b.length;
  }

  /** Appends again what this buffer already holds at {@code [from, from + length)}. */
  void appendCopy(int from, int length) {
    ensure(length);
    System.arraycopy(bytes, from, bytes, size, length);
    size += length;
  }

  /** For strings known to be ASCII: names, fixed keywords. */
  void appendAscii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      bytes[size + i] = (byte) s.charAt(i);
    }
    size += n;
  }

  /**
   * UTF-8 with {@code \\} → {@code \\\\} and line feed → {@code \n}, and {@code "} → {@code \"} when
   * {@code escapeQuote}. An unpaired surrogate becomes {@code ?}, as {@code String.getBytes} would do.
   */
  void appendEscaped(String s, boolean escapeQuote) {
    int n = s.length();
    ensure(3 * n);
    byte[] b = bytes;
    int p = size;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        if (c == '\\') {
          b[p++] = '\\';
          b[p++] = '\\';
        } else if (c == '\n') {
          b[p++] = '\\';
          b[p++] = 'n';
        } else if (c == '"' && escapeQuote) {
          b[p++] = '\\';
          b[p++] = '"';
        } else {
          b[p++] = (byte) c;
        }
      } else if (c < 0x800) {
        b[p++] = (byte) (0xC0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isSurrogate(c)) {
        char low = i + 1 < n ? s.charAt(i + 1) : 0;
        if (Character.isHighSurrogate(c) && Character.isLowSurrogate(low)) {
          int cp = Character.toCodePoint(c, low);
          i++;
          b[p++] = (byte) (0xF0 | (cp >> 18));
          b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
          b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
          b[p++] = (byte) (0x80 | (cp & 0x3F));
        } else {
          b[p++] = '?';
        }
      } else {
        b[p++] = (byte) (0xE0 | (c >> 12));
        b[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        b[p++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    size = p;
  }

  void appendLong(long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) {
        appendAscii("-9223372036854775808");
        return;
      }
      append((byte) '-');
      v = -v;
    }
    int digits = digits(v);
    ensure(digits);
    int p = size + digits;
    do {
      bytes[--p] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    } while (v != 0);
    size += digits;
  }

  /**
   * A sample value as Prometheus and OpenMetrics parse it: {@code NaN}, {@code +Inf}, {@code -Inf};
   * integral values as plain integers ({@code 3}, not {@code 3.0}); values of millisecond precision, like
   * timestamps in seconds, as plain decimals ({@code 1700000000.123}); anything else as
   * {@link Double#toString}, which is locale-independent and round-trips.
   */
  void appendDouble(double v) {
    if (Double.isNaN(v)) {
      appendAscii("NaN");
    } else if (v == Double.POSITIVE_INFINITY) {
      appendAscii("+Inf");
    } else if (v == Double.NEGATIVE_INFINITY) {
      appendAscii("-Inf");
    } else if (Math.abs(v) < 0x1p63 && v == (long) v) {
      appendLong((long) v);
    } else if (Math.abs(v) < 0x1p52 / 1000 && Math.round(v * 1000) / 1000.0 == v) {
      // k / 1000.0 is the double nearest to the decimal k/1000 (k is exact below 2^53 and division rounds
      // correctly), so printing k/1000 exactly reads back as v.
      appendMillis(Math.round(v * 1000));
    } else {
      appendAscii(Double.toString(v));
    }
  }

  private void appendMillis(long k) {
    if (k < 0) {
      append((byte) '-');
      k = -k;
    }
    appendLong(k / 1000);
    int frac = (int) (k % 1000);
    ensure(4);
    bytes[size++] = '.';
    bytes[size++] = (byte) ('0' + frac / 100);
    frac %= 100;
    if (frac != 0) {
      bytes[size++] = (byte) ('0' + frac / 10);
      frac %= 10;
      if (frac != 0) bytes[size++] = (byte) ('0' + frac);
    }
  }

  private static int digits(long v) {
    long limit = 10;
    for (int d = 1; d < 19; d++) {
      if (v < limit) return d;
      limit *= 10;
    }
    return 19;
  }
}
