package io.resticmanager.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

  private static InetAddress parsed(String text) {
    return IpLiteral.parse(text).orElseThrow(() -> new AssertionError("not parsed: " + text));
  }

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, 0.0.0.0",
    "127.0.0.1, 127.0.0.1",
    "255.255.255.255, 255.255.255.255",
    "10.0.0.0, 10.0.0.0",
  })
  void ipv4DottedQuadsParseToTheirAddress(String text, String hostAddress) {
    InetAddress a = parsed(text);
    assertInstanceOf(Inet4Address.class, a);
    assertEquals(hostAddress, a.getHostAddress());
  }

  @ParameterizedTest
  @CsvSource({
    "::, 0:0:0:0:0:0:0:0",
    "::1, 0:0:0:0:0:0:0:1",
    "2001:db8::1, 2001:db8:0:0:0:0:0:1",
    "2001:DB8::A, 2001:db8:0:0:0:0:0:a",
    "1::, 1:0:0:0:0:0:0:0",
    "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
    "::2:3:4:5:6:7:8, 0:2:3:4:5:6:7:8",
    "fe80::1:2, fe80:0:0:0:0:0:1:2",
    "::1.2.3.4, 0:0:0:0:0:0:102:304",
    "64:ff9b::192.0.2.33, 64:ff9b:0:0:0:0:c000:221",
    "1:2:3:4:5:6:1.2.3.4, 1:2:3:4:5:6:102:304",
  })
  void ipv6LiteralsParseToTheirAddress(String text, String hostAddress) {
    InetAddress a = parsed(text);
    assertInstanceOf(Inet6Address.class, a);
    assertEquals(hostAddress, a.getHostAddress());
  }

  @ParameterizedTest
  @ValueSource(strings = {"::ffff:1.2.3.4", "::FFFF:1.2.3.4", "::ffff:102:304", "0:0:0:0:0:ffff:1.2.3.4"})
  void ipv4MappedIpv6IsFoldedToIpv4(String text) {
    InetAddress a = parsed(text);
    assertInstanceOf(Inet4Address.class, a);
    assertEquals("1.2.3.4", a.getHostAddress());
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", " ", "1.2.3.4 ", " 1.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3", "256.0.0.1", "1.2.3.-1",
    "1.2.3.+4", "1..2.3", "010.0.0.1", "1.2.3.04", "1.2.3.4/8", "1.2.3.4:80", "0x7f.0.0.1", "2130706433",
    "\u0661.2.3.4", "\uff11.2.3.4", "localhost", "example.com", "unknown", "_hidden",
    ":", ":::", "1:2", ":1::2", "1::2:", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
    "12345::1", "g::1", "[::1]", "::1%eth0", "fe80::1%1", "1.2.3.4::", "::1.2.3.4:5", "::1.2.3",
    "::ffff:1.2.3.256", "::ffff:010.0.0.1", ".1:2", "1:2:3:4:5:6:7:1.2.3.4", "::\uff11",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  })
  void anythingElseIsRefused(String text) {
    assertTrue(IpLiteral.parse(text).isEmpty(), () -> "accepted: " + text);
  }

  @Test
  void nullIsRefused() {
    assertTrue(IpLiteral.parse(null).isEmpty());
  }

  @Test
  void theLongestLiteralStillParses() {
    InetAddress a = parsed("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, a.getAddress());
  }

  @Test
  void anUnfoldedMappedAddressBuiltFromBytesIsFoldedToIpv4() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 1, 2, 3};
    InetAddress raw = Inet6Address.getByAddress(null, mapped, -1);
    assertInstanceOf(Inet6Address.class, raw);
    assertEquals(InetAddress.getByAddress(new byte[] {10, 1, 2, 3}), IpLiteral.foldMapped(raw));
  }

  @Test
  void foldingLeavesOtherAddressesAlone() {
    InetAddress v6 = parsed("2001:db8::1");
    InetAddress v4 = parsed("10.1.2.3");
    assertSame(v6, IpLiteral.foldMapped(v6));
    assertSame(v4, IpLiteral.foldMapped(v4));
  }
}
