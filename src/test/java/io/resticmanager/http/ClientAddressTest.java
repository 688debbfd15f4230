package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resticmanager.config.Cidr;
import io.resticmanager.config.IpLiteral;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientAddressTest {
  private static final List<Cidr> PROXIES = Cidr.parseList("10.0.0.0/8, 2001:db8:feed::/48");

  private static Optional<InetAddress> ip(String text) {
    return Optional.of(IpLiteral.parse(text).orElseThrow());
  }

  private static Optional<InetAddress> resolve(String peer, String... xffLines) {
    return ClientAddress.resolve(ip(peer), List.of(xffLines), PROXIES);
  }

  @Test
  void withoutProxiesTheClientIsTheTcpPeer() {
    assertEquals(ip("192.0.2.7"), ClientAddress.resolve(ip("192.0.2.7"), List.of(), List.of()));
  }

  @Test
  void aMissingPeerResolvesToNothing() {
    assertEquals(Optional.empty(), ClientAddress.resolve(Optional.empty(), List.of("192.0.2.7"), PROXIES));
  }

  @Test
  void anUntrustedPeerSendingTheHeaderIsStillTheClient() {
    assertEquals(ip("192.0.2.7"), resolve("192.0.2.7", "198.51.100.1"));
  }

  @Test
  void anUntrustedPeerSendingAGarbageHeaderIsStillTheClient() {
    assertEquals(ip("192.0.2.7"), resolve("192.0.2.7", "unknown, evil.example"));
  }

  @Test
  void aTrustedPeerWithoutTheHeaderIsItselfTheClient() {
    assertEquals(ip("10.0.0.1"), resolve("10.0.0.1"));
  }

  @Test
  void aTrustedPeerWithASingleEntryNamesThatEntry() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "198.51.100.1"));
  }

  @Test
  void theRightmostUntrustedEntryIsTheClientAndSpoofedEntriesLeftOfItAreIgnored() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "203.0.113.66, 198.51.100.1, 10.0.0.9, 10.0.0.8"));
  }

  @Test
  void trustedProxiesInTheMiddleOfTheChainAreSkipped() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "198.51.100.1,10.1.1.1, 10.2.2.2"));
  }

  @Test
  void whenEveryEntryIsTrustedTheLeftmostIsTheClient() {
    assertEquals(ip("10.3.3.3"), resolve("10.0.0.1", "10.3.3.3, 10.2.2.2"));
  }

  @Test
  void headerLinesAreJoinedInOrder() {
    assertEquals(ip("198.51.100.2"), resolve("10.0.0.1", "198.51.100.1", "198.51.100.2, 10.0.0.5"));
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "198.51.100.1", "10.0.0.5"));
  }

  @Test
  void anEntryMayCarryAPort() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "198.51.100.1:5678"));
  }

  @Test
  void aBracketedIpv6EntryMayCarryAPort() {
    assertEquals(ip("2001:db8::1"), resolve("10.0.0.1", "[2001:db8::1]:443"));
    assertEquals(ip("2001:db8::1"), resolve("10.0.0.1", "[2001:db8::1]"));
  }

  @Test
  void aBareIpv6EntryIsAccepted() {
    assertEquals(ip("2001:db8::1"), resolve("10.0.0.1", " 2001:db8::1 "));
  }

  @Test
  void anIpv6ProxyIsWalkedOverLikeAnyOther() {
    assertEquals(ip("198.51.100.1"), resolve("2001:db8:feed::1", "198.51.100.1, [2001:db8:feed::2]:80"));
  }

  @Test
  void aMappedEntryIsFoldedToIpv4() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "::ffff:198.51.100.1"));
  }

  @Test
  void aMappedEntryOfATrustedProxyIsSkipped() {
    assertEquals(ip("198.51.100.1"), resolve("10.0.0.1", "198.51.100.1, [::ffff:10.0.0.3]:80"));
  }

  @Test
  void aMappedPeerInsideAnIpv4ProxyRangeIsTrusted() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 0, 0, 1};
    Optional<InetAddress> peer = Optional.of(Inet6Address.getByAddress(null, mapped, -1));
    assertEquals(ip("198.51.100.1"), ClientAddress.resolve(peer, List.of("198.51.100.1"), PROXIES));
  }

  @Test
  void aMappedPeerIsReportedAsIpv4() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 192, 0, 2, 7};
    Optional<InetAddress> peer = Optional.of(Inet6Address.getByAddress(null, mapped, -1));
    assertEquals(ip("192.0.2.7"), ClientAddress.resolve(peer, List.of(), PROXIES));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "proxy.example.com", "localhost", "unknown", "_hidden", "", " ", "198.51.100.1,", ",198.51.100.1",
    "198.51.100.1,,198.51.100.2", "198.51.100.1:", "198.51.100.1:99999", "198.51.100.1:http", "198.51.100.1:-1",
    "[198.51.100.1]:80", "[2001:db8::1", "[2001:db8::1]443", "[2001:db8::1]:", "2001:db8::1:443x", "\"198.51.100.1\"",
    "for=198.51.100.1", "198.51.100.1 198.51.100.2", "fe80::1%eth0", "010.0.0.1", "0x7f000001",
  })
  void aNonLiteralEntryDeniesTheWholeResolution(String header) {
    assertEquals(Optional.empty(), resolve("10.0.0.1", header), () -> "resolved: " + header);
  }

  @Test
  void aNonLiteralEntryLeftOfTheClientStillDenies() {
    assertEquals(Optional.empty(), resolve("10.0.0.1", "unknown, 198.51.100.1"));
  }

  @Test
  void aNonLiteralEntryInALaterHeaderLineDenies() {
    assertEquals(Optional.empty(), resolve("10.0.0.1", "198.51.100.1", "proxy.example.com"));
  }
}
