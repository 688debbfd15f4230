package io.resticmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

  private static Cidr cidr(String text) {
    return Cidr.parse(text).orElseThrow(() -> new AssertionError("not parsed: " + text));
  }

  private static InetAddress ip(String text) {
    return IpLiteral.parse(text).orElseThrow();
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.0/8, 10.255.1.2, true",
    "10.0.0.0/8, 11.0.0.1, false",
    "192.168.1.0/24, 192.168.1.255, true",
    "192.168.1.0/24, 192.168.2.0, false",
    "192.168.1.128/25, 192.168.1.127, false",
    "192.168.1.128/25, 192.168.1.128, true",
    "172.16.0.0/12, 172.31.255.255, true",
    "172.16.0.0/12, 172.32.0.0, false",
    "0.0.0.0/0, 203.0.113.9, true",
    "203.0.113.9, 203.0.113.9, true",
    "203.0.113.9, 203.0.113.10, false",
    "203.0.113.9/32, 203.0.113.9, true",
    "10.1.2.3/8, 10.200.0.1, true",
    "2001:db8::/32, 2001:db8:ffff::1, true",
    "2001:db8::/32, 2001:db9::1, false",
    "fd00::/8, fdff::1, true",
    "::/0, 2001:db8::1, true",
    "::1, ::1, true",
    "::1/128, ::2, false",
    "2001:db8::/33, 2001:db8:8000::1, false",
  })
  void containmentFollowsThePrefix(String range, String address, boolean inside) {
    assertEquals(inside, cidr(range).contains(ip(address)));
  }

  @Test
  void anIpv4RangeNeverContainsAnIpv6AddressAndViceVersa() {
    assertFalse(cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
    assertFalse(cidr("::/0").contains(ip("10.0.0.1")));
  }

  @Test
  void aMappedRangeIsNormalisedToIpv4() {
    Cidr c = cidr("::ffff:10.0.0.0/104");
    assertEquals(8, c.prefix());
    assertTrue(c.contains(ip("10.9.9.9")));
    assertTrue(c.contains(ip("::ffff:10.9.9.9")));
    assertFalse(c.contains(ip("11.0.0.1")));
  }

  @Test
  void aBareMappedAddressBecomesAnIpv4HostRange() {
    Cidr c = cidr("::ffff:192.0.2.1");
    assertEquals(32, c.prefix());
    assertTrue(c.contains(ip("192.0.2.1")));
  }

  @Test
  void anIpv4RangeContainsAMappedClientEvenWhenJavaDidNotFoldIt() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 1, 2, 3};
    InetAddress unfolded = Inet6Address.getByAddress(null, mapped, -1);
    assertTrue(cidr("10.0.0.0/8").contains(unfolded));
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.0/0, 0", "10.0.0.0/32, 32", "::/0, 0", "::/128, 128", "::ffff:0.0.0.0/96, 0", "::ffff:1.2.3.4/128, 32"})
  void prefixBoundsAreInclusive(String text, int prefix) {
    assertEquals(prefix, cidr(text).prefix());
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", " ", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8",
    "10.0.0.0/1000", "::/129", "::ffff:10.0.0.0/95", "10.0.0.0/\u0668", "10.0.0.0/\uff18", "example.com/8",
    "10.0.0/8", "010.0.0.0/8", "fe80::1%eth0/64", "[::1]/128", "10.0.0.0 /8",
  })
  void malformedRangesAreRefused(String text) {
    assertTrue(Cidr.parse(text).isEmpty(), () -> "accepted: " + text);
  }

  @Test
  void surroundingSpacesAreTolerated() {
    assertEquals(cidr("10.0.0.0/8"), cidr("  10.0.0.0/8 "));
  }

  @Test
  void aListSkipsBlankEntriesAndKeepsOrder() {
    List<Cidr> list = Cidr.parseList(" 10.0.0.0/8, ,2001:db8::/32,");
    assertEquals(List.of(cidr("10.0.0.0/8"), cidr("2001:db8::/32")), list);
  }

  @Test
  void anEmptyOrMissingListIsEmpty() {
    assertEquals(List.of(), Cidr.parseList(""));
    assertEquals(List.of(), Cidr.parseList(null));
  }

  @Test
  void aListNamesTheEntryThatDoesNotParse() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Cidr.parseList("10.0.0.0/8, 10.0.0.0/40"));
    assertEquals("10.0.0.0/40", e.getMessage());
  }

  @Test
  void anyContainsIsTrueWhenOneRangeMatches() {
    List<Cidr> ranges = Cidr.parseList("10.0.0.0/8, 2001:db8::/32");
    assertTrue(Cidr.anyContains(ranges, ip("2001:db8::5")));
    assertTrue(Cidr.anyContains(ranges, ip("10.1.1.1")));
    assertFalse(Cidr.anyContains(ranges, ip("192.0.2.1")));
    assertFalse(Cidr.anyContains(List.of(), ip("10.1.1.1")));
  }

  @Test
  void theConstructorRefusesAPrefixLongerThanTheAddress() {
    InetAddress v4 = ip("10.0.0.0");
    assertThrows(IllegalArgumentException.class, () -> new Cidr(v4, 33, "10.0.0.0/33"));
    assertThrows(IllegalArgumentException.class, () -> new Cidr(v4, -1, "10.0.0.0/-1"));
  }

  @Test
  void textIsWhatTheOperatorWrote() {
    assertEquals("10.0.0.0/8", cidr(" 10.0.0.0/8 ").toString());
  }
}
