package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Reads a bearer token out of an {@code Authorization} header and compares tokens in constant time.
 * Shared by the admin API, the agent WebSocket and {@code /metrics}.
 *
 * <p>It never compares with {@link String#equals} (timing leak) nor with Pekko's
 * {@code Credentials.Provided.verify}, which truncates characters to 8 bits; it compares the UTF-8
 * bytes with {@link MessageDigest#isEqual}. It holds no token and never logs one.
 */
public final class BearerToken {
  private static final String SCHEME = "bearer";

  private BearerToken() {}

  /**
   * The token of {@code Bearer <token>}: the scheme matched case-insensitively, then at least one blank, then
   * everything up to the end with surrounding whitespace removed. Tokens may be any printable Unicode, so
   * spaces, {@code =} and non-ASCII letters inside are part of the token, not a syntax error (RFC 6750's
   * {@code b64token} would refuse them). Empty for any other scheme or a missing token.
   */
  public static Optional<String> extract(Optional<String> authorizationHeader) {
    if (authorizationHeader.isEmpty()) return Optional.empty();
    String value = authorizationHeader.get().strip();
    int end = 0;
    while (end < value.length() && !isBlank(value.charAt(end))) end++;
    if (end == value.length() || !isScheme(value.substring(0, end))) return Optional.empty();
    String token = value.substring(end).strip();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }

  /**
   * True when {@code presented} equals {@code expected} byte for byte in UTF-8. The time taken depends
   * only on the presented length. An empty or missing expected token matches nothing, and a string that
   * is not valid UTF-16 (a lone surrogate) matches nothing.
   */
  public static boolean matches(String presented, String expected) {
    if (presented == null || expected == null || expected.isEmpty()) return false;
    byte[] a = strictUtf8(presented);
    byte[] b = strictUtf8(expected);
    if (a == null || b == null) return false;
    return MessageDigest.isEqual(a, b);
  }

  /** {@link String#getBytes} would turn a lone surrogate into {@code ?}, so "\uD800" would equal "?". */
  private static byte[] strictUtf8(String s) {
    try {
      ByteBuffer buf = UTF_8.newEncoder().encode(CharBuffer.wrap(s));
      byte[] out = new byte[buf.remaining()];
      buf.get(out);
      return out;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static boolean isScheme(String s) {
    if (s.length() != SCHEME.length()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
      if (lower != SCHEME.charAt(i)) return false;
    }
    return true;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
