package io.resticmanager.ui;

import io.resticmanager.http.BearerToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Node-local: the status page's login sessions, in memory. A session id is 256 random bits (base64url in the
 * cookie); the map is keyed by its SHA-256, so neither a lookup's timing nor a heap dump gives a usable id.
 * Each session has its own 256-bit CSRF token and an absolute expiry. Sessions do not survive a restart and are
 * not shared between the nodes of a cluster: each node knows only the sessions it created (a load balancer in
 * front of several nodes needs sticky sessions, or the user logs in on each node). Thread-safe.
 */
public final class Sessions {
  /** One login: its CSRF token and when it ends (epoch millis). */
  public record Session(String csrf, long expiresAt) {}

  /** A new session: the id for the cookie (never stored) and the session. */
  public record Created(String id, Session session) {}

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Session> byIdHash = new ConcurrentHashMap<>();
  private final Duration ttl;
  private final LongSupplier clock;

  public Sessions(Duration ttl, LongSupplier clock) {
    this.ttl = ttl;
    this.clock = clock;
  }

  public Duration ttl() {
    return ttl;
  }

  /** Starts a session; expired ones are dropped on the way. */
  public Created create() {
    long now = clock.getAsLong();
    sweep(now);
    String id = token();
    Session s = new Session(token(), now + ttl.toMillis());
    byIdHash.put(hash(id), s);
    return new Created(id, s);
  }

  /** The live session of a cookie value; empty when unknown or expired. */
  public Optional<Session> find(String id) {
    if (id == null || id.isEmpty() || id.length() > 100) return Optional.empty();
    String key = hash(id);
    Session s = byIdHash.get(key);
    if (s == null) return Optional.empty();
    if (s.expiresAt() <= clock.getAsLong()) {
      byIdHash.remove(key, s);
      return Optional.empty();
    }
    return Optional.of(s);
  }

  /** Ends a session (logout). */
  public void remove(String id) {
    if (id != null) byIdHash.remove(hash(id));
  }

  public int size() {
    return byIdHash.size();
  }

  /** True when {@code presented} is the session's CSRF token, compared in constant time. */
  public static boolean csrfMatches(Session s, String presented) {
    return BearerToken.matches(presented, s.csrf());
  }

  private void sweep(long now) {
    for (Iterator<Session> it = byIdHash.values().iterator(); it.hasNext(); ) {
      if (it.next().expiresAt() <= now) it.remove();
    }
  }

  private String token() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return B64.encodeToString(b);
  }

  private static String hash(String id) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
