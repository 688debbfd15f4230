package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.resticmanager.config.Cidr;
import io.resticmanager.config.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The pure decision whether a {@code /metrics} scrape may proceed (contract §5). Called by
 * {@link ScrapeDirectives} once the client address is known; it never sees the HTTP request, never logs
 * and never holds a token beyond one call.
 *
 * <p>Rules, in this order:
 * <ol>
 *   <li>trusted CIDRs set: the client address must be present and inside one, else {@link Decision#FORBIDDEN};
 *   <li>a token or a token file set: the request must carry {@code Authorization: Bearer <token>} equal to
 *       the expected token (compared in constant time), else {@link Decision#UNAUTHORIZED}.
 * </ol>
 * When both a token and a token file are configured, <b>the file wins</b> and the inline token is ignored;
 * an unreadable or empty file is {@link Decision#UNAVAILABLE}, never a fallback to the inline token and never
 * "empty matches empty". The file is read only after the CIDR check passed and a bearer token was presented,
 * so unauthenticated requests cannot make the server touch the disk. A policy with no rule at all is
 * {@link Decision#FORBIDDEN}: {@code /metrics} should not be mounted then, and a mistake must fail closed.
 */
public final class ScrapeGuard {
  /** Token files are a line of text; anything longer is a misconfiguration, not a token. */
  static final int MAX_TOKEN_FILE_BYTES = 64 * 1024;

  private ScrapeGuard() {}

  /**
   * Who may scrape. {@code trustedProxies} only shapes the client address ({@link ClientAddress}); it does
   * not enable anything. {@link #toString()} never prints the token.
   */
  public record ScrapePolicy(
      Optional<String> token, Optional<Path> tokenFile, List<Cidr> trustedCidrs, List<Cidr> trustedProxies) {

    public ScrapePolicy {
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(tokenFile, "tokenFile");
      trustedCidrs = List.copyOf(trustedCidrs);
      trustedProxies = List.copyOf(trustedProxies);
    }

    /** The policy the server's settings describe. */
    public static ScrapePolicy of(Settings.Metrics metrics, List<Cidr> trustedProxies) {
      return new ScrapePolicy(metrics.token(), metrics.tokenFile(), metrics.trustedCidrs(), trustedProxies);
    }

    /** {@code /metrics} is mounted only when some access rule is configured. */
    public boolean enabled() {
      return token.isPresent() || tokenFile.isPresent() || !trustedCidrs.isEmpty();
    }

    @Override
    public String toString() {
      return "ScrapePolicy[token=" + (token.isPresent() ? "***" : "<none>") + ", tokenFile=" + tokenFile
          + ", trustedCidrs=" + trustedCidrs + ", trustedProxies=" + trustedProxies + "]";
    }
  }

  /** The outcome of one scrape request, with the HTTP status the directive answers. */
  public enum Decision {
    /** Let the scrape through. */
    ALLOW,
    /** 401: no bearer token, or the wrong one. */
    UNAUTHORIZED,
    /** 403: the client address is missing or outside every trusted CIDR. */
    FORBIDDEN,
    /** 503: the token file cannot be read or is empty. */
    UNAVAILABLE
  }

  /** Reads the expected token from the token file; swapped in tests to count reads or simulate failure. */
  @FunctionalInterface
  public interface TokenFileReader {
    /** The token stored in {@code file}, surrounding whitespace removed. */
    String read(Path file) throws IOException;

    /** The real reader: the file as strict UTF-8 (at most 64 KiB), stripped of surrounding whitespace. */
    static TokenFileReader utf8() {
      return ScrapeGuard::readTokenFile;
    }
  }

  /** Decides one scrape; the token file, when configured, is read through {@code reader} at every call. */
  public static Decision decide(
      ScrapePolicy policy,
      Optional<InetAddress> clientAddress,
      Optional<String> authorizationHeader,
      TokenFileReader reader) {
    if (!policy.enabled()) return Decision.FORBIDDEN;
    if (!policy.trustedCidrs().isEmpty()
        && (clientAddress.isEmpty() || !Cidr.anyContains(policy.trustedCidrs(), clientAddress.get()))) {
      return Decision.FORBIDDEN;
    }
    if (policy.token().isEmpty() && policy.tokenFile().isEmpty()) return Decision.ALLOW;
    Optional<String> presented = BearerToken.extract(authorizationHeader);
    if (presented.isEmpty()) return Decision.UNAUTHORIZED;
    String expected;
    if (policy.tokenFile().isPresent()) {
      Optional<String> fromFile = readQuietly(reader, policy.tokenFile().get());
      if (fromFile.isEmpty()) return Decision.UNAVAILABLE;
      expected = fromFile.get();
    } else {
      expected = policy.token().get();
    }
    return BearerToken.matches(presented.get(), expected) ? Decision.ALLOW : Decision.UNAUTHORIZED;
  }

  /** Empty when the file cannot be read or holds only whitespace. */
  private static Optional<String> readQuietly(TokenFileReader reader, Path file) {
    String token;
    try {
      token = reader.read(file);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    return token == null || token.isBlank() ? Optional.empty() : Optional.of(token);
  }

  private static String readTokenFile(Path file) throws IOException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_TOKEN_FILE_BYTES + 1);
    }
    if (bytes.length > MAX_TOKEN_FILE_BYTES) throw new IOException("token file larger than 64 KiB: " + file);
    return UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString().strip();
  }
}
