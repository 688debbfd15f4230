package io.resticmanager.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An address range such as {@code 10.0.0.0/8}, {@code fd00::/8} or a bare address. IPv4-mapped IPv6
 * ranges ({@code ::ffff:10.0.0.0/104}) are normalised to IPv4, the same way Java folds mapped addresses,
 * so a mapped client address and a mapped range always meet. Host bits below the prefix are ignored.
 */
public record Cidr(InetAddress network, int prefix, String text) {

  public Cidr {
    int max = network.getAddress().length * 8;
    if (prefix < 0 || prefix > max) throw new IllegalArgumentException("prefix out of range: " + prefix);
  }

  /** Parses one range; empty when it is not a valid CIDR or address literal. */
  public static Optional<Cidr> parse(String raw) {
    String s = raw == null ? "" : raw.trim();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    Optional<InetAddress> parsed = IpLiteral.parse(addr);
    if (parsed.isEmpty()) return Optional.empty();
    InetAddress a = parsed.get();
    boolean written6 = addr.indexOf(':') >= 0;
    int max = written6 ? 128 : 32;
    int prefix = max;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !IpLiteral.asciiDigits(p)) return Optional.empty();
      prefix = Integer.parseInt(p);
      if (prefix > max) return Optional.empty();
    }
    if (written6 && a instanceof Inet4Address) {
      // ::ffff:a.b.c.d/n covers IPv4 only when n reaches into the mapped part.
      if (prefix < 96) return Optional.empty();
      prefix -= 96;
    }
    return Optional.of(new Cidr(a, prefix, s));
  }

  /** Parses a comma-separated list; blank entries are skipped. Throws with the offending entry. */
  public static List<Cidr> parseList(String commaSeparated) {
    List<Cidr> out = new ArrayList<>();
    if (commaSeparated == null) return out;
    for (String part : commaSeparated.split(",")) {
      if (part.isBlank()) continue;
      out.add(parse(part).orElseThrow(() -> new IllegalArgumentException(part.trim())));
    }
    return List.copyOf(out);
  }

  /** True when {@code address} (IPv4-mapped IPv6 folded to IPv4 first) lies in this range. */
  public boolean contains(InetAddress address) {
    byte[] net = network.getAddress();
    byte[] a = IpLiteral.foldMapped(address).getAddress();
    if (net.length != a.length) return false;
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (net[i] != a[i]) return false;
    }
    int rest = prefix % 8;
    if (rest == 0) return true;
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (net[full] & mask) == (a[full] & mask);
  }

  /** True when any range in {@code ranges} contains {@code address}. */
  public static boolean anyContains(List<Cidr> ranges, InetAddress address) {
    for (Cidr c : ranges) {
      if (c.contains(address)) return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return text;
  }
}
