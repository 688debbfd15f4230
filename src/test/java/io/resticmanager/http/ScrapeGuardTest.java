package io.resticmanager.http;

import static io.resticmanager.http.ScrapeGuard.Decision.ALLOW;
import static io.resticmanager.http.ScrapeGuard.Decision.FORBIDDEN;
import static io.resticmanager.http.ScrapeGuard.Decision.UNAUTHORIZED;
import static io.resticmanager.http.ScrapeGuard.Decision.UNAVAILABLE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Cidr;
import io.resticmanager.config.IpLiteral;
import io.resticmanager.config.Settings;
import io.resticmanager.http.ScrapeGuard.Decision;
import io.resticmanager.http.ScrapeGuard.ScrapePolicy;
import io.resticmanager.http.ScrapeGuard.TokenFileReader;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScrapeGuardTest {
  private static final String TOKEN = "s3cr3t-scrape-token";
  private static final Path SOME_FILE = Path.of("/run/secrets/metrics-token");
  private static final List<Cidr> MONITORING = Cidr.parseList("192.0.2.0/24, 2001:db8:aaaa::/48");

  /** Fails the test if the guard touches the token file. */
  private static final TokenFileReader NO_FILE = file -> {
    throw new AssertionError("token file read although none is configured: " + file);
  };

  private static Optional<InetAddress> ip(String text) {
    return Optional.of(IpLiteral.parse(text).orElseThrow());
  }

  private static Optional<String> bearer(String token) {
    return Optional.of("Bearer " + token);
  }

  private static ScrapePolicy tokenOnly(String token) {
    return new ScrapePolicy(Optional.of(token), Optional.empty(), List.of(), List.of());
  }

  private static ScrapePolicy cidrOnly() {
    return new ScrapePolicy(Optional.empty(), Optional.empty(), MONITORING, List.of());
  }

  private static ScrapePolicy tokenFileOnly(Path file) {
    return new ScrapePolicy(Optional.empty(), Optional.of(file), List.of(), List.of());
  }

  /** A reader that hands out a fixed token and counts how often it was asked. */
  private static final class CountingReader implements TokenFileReader {
    final AtomicInteger reads = new AtomicInteger();
    volatile String content;

    CountingReader(String content) {
      this.content = content;
    }

    @Override
    public String read(Path file) {
      reads.incrementAndGet();
      return content;
    }
  }

  @Nested
  class Unconfigured {
    private final ScrapePolicy none = new ScrapePolicy(Optional.empty(), Optional.empty(), List.of(), List.of());

    @Test
    void aPolicyWithoutRulesIsNotEnabled() {
      assertFalse(none.enabled());
    }

    @Test
    void trustedProxiesAloneDoNotEnableScraping() {
      assertFalse(new ScrapePolicy(Optional.empty(), Optional.empty(), List.of(), MONITORING).enabled());
    }

    @Test
    void aPolicyWithoutRulesFailsClosedEvenWithAPlausibleRequest() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(none, ip("192.0.2.1"), bearer(TOKEN), NO_FILE));
    }

    @Test
    void anyOneRuleEnablesScraping() {
      assertTrue(tokenOnly(TOKEN).enabled());
      assertTrue(cidrOnly().enabled());
      assertTrue(tokenFileOnly(SOME_FILE).enabled());
    }
  }

  @Nested
  class TokenOnly {
    private final ScrapePolicy policy = tokenOnly(TOKEN);

    @Test
    void noAuthorizationHeaderIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, ip("192.0.2.1"), Optional.empty(), NO_FILE));
    }

    @Test
    void aWrongTokenIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, ip("192.0.2.1"), bearer("nope"), NO_FILE));
    }

    @Test
    void aPrefixOfTheTokenIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, ip("192.0.2.1"), bearer("s3cr3t"), NO_FILE));
    }

    @Test
    void theRightTokenIsAllowed() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("192.0.2.1"), bearer(TOKEN), NO_FILE));
    }

    @Test
    void theRightTokenIsAllowedWhateverTheClientAddressOrItsAbsence() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("203.0.113.99"), bearer(TOKEN), NO_FILE));
      assertEquals(ALLOW, ScrapeGuard.decide(policy, Optional.empty(), bearer(TOKEN), NO_FILE));
    }

    @Test
    void aLowerCaseSchemeIsAccepted() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, Optional.empty(), Optional.of("bearer " + TOKEN), NO_FILE));
    }

    @Test
    void extraSpacesAroundTheTokenAreAccepted() {
      assertEquals(ALLOW,
          ScrapeGuard.decide(policy, Optional.empty(), Optional.of("  Bearer   " + TOKEN + " "), NO_FILE));
    }

    @Test
    void aSecondWordAfterTheTokenIsUnauthorized() {
      assertEquals(UNAUTHORIZED,
          ScrapeGuard.decide(policy, Optional.empty(), Optional.of("Bearer " + TOKEN + " extra"), NO_FILE));
    }

    @Test
    void theRightTokenUnderAnotherSchemeIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, Optional.empty(), Optional.of("Basic " + TOKEN), NO_FILE));
    }

    @Test
    void aNonAsciiTokenDifferingOnlyAboveEightBitsIsUnauthorized() {
      ScrapePolicy nonAscii = tokenOnly("t\u0151ken-\u4e41");
      assertEquals(ALLOW, ScrapeGuard.decide(nonAscii, Optional.empty(), bearer("t\u0151ken-\u4e41"), NO_FILE));
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(nonAscii, Optional.empty(), bearer("tQken-A"), NO_FILE));
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(tokenOnly("tQken-A"), Optional.empty(),
          bearer("t\u0151ken-\u4e41"), NO_FILE));
    }

    @Test
    void anEmptyConfiguredTokenAdmitsNobody() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(tokenOnly(""), Optional.empty(), Optional.of("Bearer "), NO_FILE));
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(tokenOnly(""), Optional.empty(), Optional.of("Bearer x"), NO_FILE));
    }
  }

  @Nested
  class CidrOnly {
    private final ScrapePolicy policy = cidrOnly();

    @Test
    void aClientInsideARangeIsAllowedWithoutAnyToken() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("192.0.2.200"), Optional.empty(), NO_FILE));
    }

    @Test
    void aClientOutsideEveryRangeIsForbidden() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("198.51.100.1"), Optional.empty(), NO_FILE));
    }

    @Test
    void aTokenDoesNotOpenTheDoorForAnOutsideClient() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("198.51.100.1"), bearer(TOKEN), NO_FILE));
    }

    @Test
    void aMissingClientAddressIsForbidden() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, Optional.empty(), Optional.empty(), NO_FILE));
    }

    @Test
    void anIpv6ClientIsCheckedAgainstIpv6Ranges() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("2001:db8:aaaa:1::5"), Optional.empty(), NO_FILE));
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("2001:db8:bbbb::5"), Optional.empty(), NO_FILE));
    }

    @Test
    void anIpv4MappedClientMatchesAnIpv4Range() throws Exception {
      byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 192, 0, 2, 9};
      Optional<InetAddress> unfolded = Optional.of(Inet6Address.getByAddress(null, mapped, -1));
      assertEquals(ALLOW, ScrapeGuard.decide(policy, unfolded, Optional.empty(), NO_FILE));
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("::ffff:192.0.2.9"), Optional.empty(), NO_FILE));
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("::ffff:198.51.100.1"), Optional.empty(), NO_FILE));
    }

    @Test
    void anIpv4ClientMatchesAMappedRange() {
      ScrapePolicy mappedRange =
          new ScrapePolicy(Optional.empty(), Optional.empty(), Cidr.parseList("::ffff:192.0.2.0/120"), List.of());
      assertEquals(ALLOW, ScrapeGuard.decide(mappedRange, ip("192.0.2.9"), Optional.empty(), NO_FILE));
      assertEquals(FORBIDDEN, ScrapeGuard.decide(mappedRange, ip("192.0.3.9"), Optional.empty(), NO_FILE));
    }
  }

  @Nested
  class Both {
    private final ScrapePolicy policy = new ScrapePolicy(Optional.of(TOKEN), Optional.empty(), MONITORING, List.of());

    @Test
    void bothPassingIsAllowed() {
      assertEquals(ALLOW, ScrapeGuard.decide(policy, ip("192.0.2.1"), bearer(TOKEN), NO_FILE));
    }

    @Test
    void theRightTokenFromOutsideIsForbidden() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("198.51.100.1"), bearer(TOKEN), NO_FILE));
    }

    @Test
    void aWrongTokenFromInsideIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, ip("192.0.2.1"), bearer("nope"), NO_FILE));
    }

    @Test
    void noTokenFromInsideIsUnauthorized() {
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, ip("192.0.2.1"), Optional.empty(), NO_FILE));
    }

    @Test
    void theAddressIsCheckedBeforeTheToken() {
      assertEquals(FORBIDDEN, ScrapeGuard.decide(policy, ip("198.51.100.1"), bearer("nope"), NO_FILE));
    }

    @Test
    void theTokenFileIsNotReadForAClientOutsideTheRanges() {
      CountingReader reader = new CountingReader(TOKEN);
      ScrapePolicy withFile = new ScrapePolicy(Optional.empty(), Optional.of(SOME_FILE), MONITORING, List.of());
      assertEquals(FORBIDDEN, ScrapeGuard.decide(withFile, ip("198.51.100.1"), bearer(TOKEN), reader));
      assertEquals(0, reader.reads.get());
      assertEquals(ALLOW, ScrapeGuard.decide(withFile, ip("192.0.2.1"), bearer(TOKEN), reader));
      assertEquals(1, reader.reads.get());
    }
  }

  /** The whole chain the directive runs: client address from proxies, then the guard. */
  @Nested
  class BehindATrustedProxy {
    private final List<Cidr> proxies = Cidr.parseList("10.0.0.0/8");
    private final ScrapePolicy policy = new ScrapePolicy(Optional.empty(), Optional.empty(), MONITORING, proxies);

    private Decision scrape(String peer, String... xff) {
      Optional<InetAddress> client = ClientAddress.resolve(ip(peer), List.of(xff), policy.trustedProxies());
      return ScrapeGuard.decide(policy, client, Optional.empty(), NO_FILE);
    }

    @Test
    void aForwardedClientInsideTheRangesIsAllowed() {
      assertEquals(ALLOW, scrape("10.0.0.1", "192.0.2.5"));
    }

    @Test
    void aForwardedClientOutsideTheRangesIsForbiddenAlthoughTheProxyItselfIsNotInThem() {
      assertEquals(FORBIDDEN, scrape("10.0.0.1", "198.51.100.1"));
    }

    @Test
    void aChainWithTrustedProxiesInTheMiddleFindsTheRealClient() {
      assertEquals(ALLOW, scrape("10.0.0.1", "198.51.100.1, 192.0.2.5, 10.0.0.2, 10.0.0.3"));
      assertEquals(FORBIDDEN, scrape("10.0.0.1", "192.0.2.5, 198.51.100.1, 10.0.0.2"));
    }

    @Test
    void twoHeaderLinesAreReadAsOneChain() {
      assertEquals(ALLOW, scrape("10.0.0.1", "198.51.100.1", "192.0.2.5, 10.0.0.2"));
    }

    @Test
    void entriesWithPortsAreAccepted() {
      assertEquals(ALLOW, scrape("10.0.0.1", "192.0.2.5:40000"));
      assertEquals(ALLOW, scrape("10.0.0.1", "[2001:db8:aaaa::7]:443"));
    }

    @Test
    void aHostNameEntryIsForbidden() {
      assertEquals(FORBIDDEN, scrape("10.0.0.1", "scraper.example.com"));
    }

    @Test
    void anUnknownEntryIsForbidden() {
      assertEquals(FORBIDDEN, scrape("10.0.0.1", "unknown"));
    }

    @Test
    void anUntrustedPeerClaimingAnInsideAddressIsJudgedByItsOwnAddress() {
      assertEquals(FORBIDDEN, scrape("198.51.100.1", "192.0.2.5"));
      assertEquals(ALLOW, scrape("192.0.2.6", "198.51.100.1"));
    }
  }

  @Nested
  class TokenFile {
    @TempDir Path dir;

    @Test
    void theFileIsReadAtEveryScrapeSoARotationTakesEffect() throws IOException {
      Path file = dir.resolve("token");
      Files.writeString(file, "first-token\n", UTF_8);
      ScrapePolicy policy = tokenFileOnly(file);
      TokenFileReader reader = TokenFileReader.utf8();

      assertEquals(ALLOW, ScrapeGuard.decide(policy, Optional.empty(), bearer("first-token"), reader));
      Files.writeString(file, "second-token\n", UTF_8);
      assertEquals(ALLOW, ScrapeGuard.decide(policy, Optional.empty(), bearer("second-token"), reader));
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(policy, Optional.empty(), bearer("first-token"), reader));
    }

    @Test
    void everyAuthenticatedScrapeReadsTheFileOnce() {
      CountingReader reader = new CountingReader(TOKEN);
      ScrapePolicy policy = tokenFileOnly(SOME_FILE);
      ScrapeGuard.decide(policy, Optional.empty(), bearer(TOKEN), reader);
      ScrapeGuard.decide(policy, Optional.empty(), bearer("wrong"), reader);
      ScrapeGuard.decide(policy, Optional.empty(), bearer(TOKEN), reader);
      assertEquals(3, reader.reads.get());
    }

    @Test
    void aScrapeWithoutATokenIsUnauthorizedWithoutReadingTheFile() {
      CountingReader reader = new CountingReader(TOKEN);
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(tokenFileOnly(SOME_FILE), Optional.empty(), Optional.empty(), reader));
      assertEquals(0, reader.reads.get());
    }

    @Test
    void surroundingWhitespaceAndTheTrailingNewlineAreTrimmed() throws IOException {
      Path file = dir.resolve("token");
      Files.writeString(file, "  \t" + TOKEN + "\r\n\n", UTF_8);
      assertEquals(TOKEN, TokenFileReader.utf8().read(file));
      assertEquals(ALLOW, ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer(TOKEN), TokenFileReader.utf8()));
    }

    @Test
    void aNonAsciiTokenIsReadAsUtf8() throws IOException {
      Path file = dir.resolve("token");
      Files.writeString(file, "t\u0151ken-\u4e41\n", UTF_8);
      assertEquals(ALLOW,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer("t\u0151ken-\u4e41"), TokenFileReader.utf8()));
    }

    @Test
    void aMissingFileIsUnavailable() {
      Path file = dir.resolve("absent");
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer(TOKEN), TokenFileReader.utf8()));
    }

    @Test
    void aDirectoryInsteadOfAFileIsUnavailable() {
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(dir), Optional.empty(), bearer(TOKEN), TokenFileReader.utf8()));
    }

    @Test
    void anEmptyFileIsUnavailableNeverAnEmptyMatch() throws IOException {
      Path file = dir.resolve("token");
      Files.writeString(file, "", UTF_8);
      assertEquals(UNAUTHORIZED,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), Optional.of("Bearer "), TokenFileReader.utf8()));
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer("x"), TokenFileReader.utf8()));
    }

    @Test
    void aFileOfOnlyWhitespaceIsUnavailable() throws IOException {
      Path file = dir.resolve("token");
      Files.writeString(file, " \n\t\n", UTF_8);
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer("x"), TokenFileReader.utf8()));
    }

    @Test
    void aFileThatIsNotUtf8IsUnavailable() throws IOException {
      Path file = dir.resolve("token");
      Files.write(file, new byte[] {'a', (byte) 0xC3, (byte) 0x28, '\n'});
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer("a\ufffd("), TokenFileReader.utf8()));
    }

    @Test
    void anOversizedFileIsUnavailable() throws IOException {
      Path file = dir.resolve("token");
      String huge = "x".repeat(ScrapeGuard.MAX_TOKEN_FILE_BYTES + 1);
      Files.writeString(file, huge, UTF_8);
      assertEquals(UNAVAILABLE,
          ScrapeGuard.decide(tokenFileOnly(file), Optional.empty(), bearer(huge), TokenFileReader.utf8()));
    }

    @Test
    void aReaderThatFailsMakesTheScrapeUnavailable() {
      TokenFileReader failing = file -> {
        throw new NoSuchFileException(file.toString());
      };
      TokenFileReader crashing = file -> {
        throw new IllegalStateException("boom");
      };
      assertEquals(UNAVAILABLE, ScrapeGuard.decide(tokenFileOnly(SOME_FILE), Optional.empty(), bearer(TOKEN), failing));
      assertEquals(UNAVAILABLE, ScrapeGuard.decide(tokenFileOnly(SOME_FILE), Optional.empty(), bearer(TOKEN), crashing));
    }

    @Test
    void theFileWinsOverAnInlineToken() {
      CountingReader reader = new CountingReader("from-file");
      ScrapePolicy both = new ScrapePolicy(Optional.of("inline"), Optional.of(SOME_FILE), List.of(), List.of());
      assertEquals(ALLOW, ScrapeGuard.decide(both, Optional.empty(), bearer("from-file"), reader));
      assertEquals(UNAUTHORIZED, ScrapeGuard.decide(both, Optional.empty(), bearer("inline"), reader));
    }

    @Test
    void anUnreadableFileDoesNotFallBackToTheInlineToken() {
      TokenFileReader failing = file -> {
        throw new NoSuchFileException(file.toString());
      };
      ScrapePolicy both = new ScrapePolicy(Optional.of("inline"), Optional.of(SOME_FILE), List.of(), List.of());
      assertEquals(UNAVAILABLE, ScrapeGuard.decide(both, Optional.empty(), bearer("inline"), failing));
    }
  }

  @Nested
  class Policy {
    @Test
    void toStringNeverShowsTheToken() {
      ScrapePolicy p = new ScrapePolicy(Optional.of(TOKEN), Optional.of(SOME_FILE), MONITORING, List.of());
      assertFalse(p.toString().contains(TOKEN), p::toString);
      assertTrue(p.toString().contains(SOME_FILE.toString()), p::toString);
    }

    @Test
    void itIsBuiltFromTheMetricsSettingsAndTheTrustedProxies() {
      List<Cidr> proxies = Cidr.parseList("10.0.0.0/8");
      Settings.Metrics metrics = new Settings.Metrics(Optional.of(TOKEN), Optional.of(SOME_FILE), MONITORING, 4);
      assertEquals(new ScrapePolicy(Optional.of(TOKEN), Optional.of(SOME_FILE), MONITORING, proxies),
          ScrapePolicy.of(metrics, proxies));
    }
  }
}
