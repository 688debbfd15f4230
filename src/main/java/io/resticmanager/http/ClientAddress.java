package io.resticmanager.http;

import io.resticmanager.config.Cidr;
import io.resticmanager.config.IpLiteral;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decides which address a request comes from, as contract §5 defines it. Pure: no I/O, no name lookups.
 * Used by {@link ScrapeDirectives} before {@link ScrapeGuard} checks the address against the trusted CIDRs.
 *
 * <p>The client is the TCP peer. Only when the peer lies in the trusted proxies is {@code X-Forwarded-For}
 * read: its header lines are joined in order, the comma-separated entries walked right to left, and the
 * first entry that is not itself a trusted proxy is the client; when every entry is trusted, the leftmost
 * one is. A trusted peer that sends no {@code X-Forwarded-For} is itself the client.
 *
 * <p>Every entry must be an IP literal, optionally with a port ({@code 192.0.2.1:5678},
 * {@code [2001:db8::1]:443}) and surrounding blanks; one entry that is anything else (a host name,
 * {@code unknown}, an obfuscated {@code _id}, an empty entry) makes the answer empty, which callers treat
 * as a denial. It never consults {@code X-Real-IP}, {@code Forwarded} or {@code Remote-Address}: they
 * are not even inputs.
 */
public final class ClientAddress {
  private ClientAddress() {}

  /** The client address, or empty when there is no peer or a believed header holds a non-literal entry. */
  public static Optional<InetAddress> resolve(
      Optional<InetAddress> tcpPeer, List<String> xForwardedForHeaderLines, List<Cidr> trustedProxies) {
    if (tcpPeer.isEmpty()) return Optional.empty();
    InetAddress peer = IpLiteral.foldMapped(tcpPeer.get());
    if (!Cidr.anyContains(trustedProxies, peer) || xForwardedForHeaderLines.isEmpty()) {
      return Optional.of(peer);
    }
    List<InetAddress> chain = new ArrayList<>();
    for (String line : xForwardedForHeaderLines) {
      for (String entry : line.split(",", -1)) {
        Optional<InetAddress> hop = parseEntry(entry);
        if (hop.isEmpty()) return Optional.empty();
        chain.add(hop.get());
      }
    }
    for (int i = chain.size() - 1; i >= 0; i--) {
      if (!Cidr.anyContains(trustedProxies, chain.get(i))) return Optional.of(chain.get(i));
    }
    return Optional.of(chain.get(0));
  }

  /** One X-Forwarded-For entry: an IPv4 or IPv6 literal, with an optional port. */
  static Optional<InetAddress> parseEntry(String raw) {
    String e = raw.strip();
    if (e.startsWith("[")) {
      int close = e.indexOf(']');
      if (close < 0) return Optional.empty();
      String host = e.substring(1, close);
      String rest = e.substring(close + 1);
      if (host.indexOf(':') < 0) return Optional.empty();
      if (!rest.isEmpty() && !(rest.charAt(0) == ':' && isPort(rest.substring(1)))) return Optional.empty();
      return IpLiteral.parse(host);
    }
    int colon = e.indexOf(':');
    if (colon >= 0 && colon == e.lastIndexOf(':')) {
      // One colon can only be IPv4 with a port: every IPv6 literal has at least two.
      if (!isPort(e.substring(colon + 1))) return Optional.empty();
      return IpLiteral.parse(e.substring(0, colon));
    }
    return IpLiteral.parse(e);
  }

  private static boolean isPort(String s) {
    if (s.isEmpty() || s.length() > 5) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return Integer.parseInt(s) <= 65535;
  }
}
