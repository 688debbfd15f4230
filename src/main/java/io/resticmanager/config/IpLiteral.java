package io.resticmanager.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Parses IP address literals by hand and builds addresses with {@link InetAddress#getByAddress(byte[])},
 * so no text ever reaches a name lookup. Used for configured CIDRs ({@link Cidr}) and for
 * {@code X-Forwarded-For} entries sent by clients.
 *
 * <p>IPv4 is the dotted quad with decimal octets; a leading zero ({@code 010.0.0.1}) is refused because
 * other software reads it as octal. IPv6 follows RFC 4291 text form, including {@code ::} and a trailing
 * dotted quad; zone ids ({@code %eth0}) and brackets are refused. IPv4-mapped IPv6
 * ({@code ::ffff:a.b.c.d}) comes back as an {@link java.net.Inet4Address}, as Java itself folds it;
 * callers rely on that.
 */
public final class IpLiteral {
  /** The longest literal: six groups and a dotted quad, {@code ffff:…:ffff:255.255.255.255}. */
  private static final int MAX_LENGTH = 45;

  private IpLiteral() {}

  /** The address, or empty when {@code text} is not an IPv4 or IPv6 literal (names are never looked up). */
  public static Optional<InetAddress> parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_LENGTH) return Optional.empty();
    byte[] bytes = text.indexOf(':') >= 0 ? parseV6(text) : parseV4(text);
    return bytes == null ? Optional.empty() : Optional.of(fromBytes(bytes));
  }

  /**
   * {@code address} with an IPv4-mapped IPv6 form folded to IPv4. Java already folds every address it
   * parses or accepts from a socket; this covers an {@link Inet6Address} built directly from bytes.
   */
  public static InetAddress foldMapped(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] b = address.getAddress();
      if (isMapped(b)) return fromBytes(Arrays.copyOfRange(b, 12, 16));
    }
    return address;
  }

  private static boolean isMapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) return false;
    }
    return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
  }

  private static InetAddress fromBytes(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new AssertionError("4 or 16 bytes are always accepted", e);
    }
  }

  private static byte[] parseV4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) return null;
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !asciiDigits(p)) return null;
      if (p.length() > 1 && p.charAt(0) == '0') return null;
      int v = Integer.parseInt(p);
      if (v > 255) return null;
      out[i] = (byte) v;
    }
    return out;
  }

  private static byte[] parseV6(String s) {
    int gap = s.indexOf("::");
    if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) return null;
    int[] head = groups(gap < 0 ? s : s.substring(0, gap), gap < 0);
    int[] tail = gap < 0 ? new int[0] : groups(s.substring(gap + 2), true);
    if (head == null || tail == null) return null;
    int total = head.length + tail.length;
    if (gap < 0 ? total != 8 : total > 7) return null;
    byte[] out = new byte[16];
    for (int i = 0; i < head.length; i++) putGroup(out, i, head[i]);
    for (int i = 0; i < tail.length; i++) putGroup(out, 8 - tail.length + i, tail[i]);
    return out;
  }

  /** 16-bit groups of a colon-separated run; a dotted quad is allowed only at the very end. */
  private static int[] groups(String run, boolean mayEndWithV4) {
    if (run.isEmpty()) return new int[0];
    String[] fields = run.split(":", -1);
    int[] out = new int[fields.length + 1];
    int n = 0;
    for (int i = 0; i < fields.length; i++) {
      String f = fields[i];
      if (mayEndWithV4 && i == fields.length - 1 && f.indexOf('.') >= 0) {
        byte[] v4 = parseV4(f);
        if (v4 == null) return null;
        out[n++] = ((v4[0] & 0xFF) << 8) | (v4[1] & 0xFF);
        out[n++] = ((v4[2] & 0xFF) << 8) | (v4[3] & 0xFF);
      } else {
        int v = hexGroup(f);
        if (v < 0) return null;
        out[n++] = v;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static int hexGroup(String f) {
    if (f.isEmpty() || f.length() > 4) return -1;
    int v = 0;
    for (int i = 0; i < f.length(); i++) {
      char c = f.charAt(i);
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  private static void putGroup(byte[] out, int index, int value) {
    out[2 * index] = (byte) (value >>> 8);
    out[2 * index + 1] = (byte) value;
  }

  static boolean asciiDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return true;
  }
}
