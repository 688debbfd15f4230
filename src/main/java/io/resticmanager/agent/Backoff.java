package io.resticmanager.agent;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * Reconnect delays: exponential backoff with full jitter ({@code random(0, min(cap, base * 2^attempt))}),
 * so a fleet of agents that lost the server at the same moment does not come back at the same moment.
 * Owns only the attempt counter; {@link AgentClient} asks it for the next delay after each failed or
 * dropped connection and resets it once a connection got its {@code welcome}.
 *
 * <p>Never sleeps and never schedules anything itself; not thread-safe (its one user calls it from a
 * single thread).
 */
public final class Backoff {
  private final long baseMillis;
  private final long capMillis;
  private final Random random;
  private int attempt;

  public Backoff(Duration base, Duration cap, Random random) {
    Objects.requireNonNull(random, "random");
    if (base.isNegative() || base.isZero()) throw new IllegalArgumentException("base must be > 0: " + base);
    if (cap.compareTo(base) < 0) throw new IllegalArgumentException("cap " + cap + " is below base " + base);
    this.baseMillis = base.toMillis();
    this.capMillis = cap.toMillis();
    this.random = random;
  }

  /** The upper bound of the delay for {@code attempt} (0-based): {@code min(cap, base * 2^attempt)}. */
  public Duration bound(int attempt) {
    return Duration.ofMillis(boundMillis(attempt));
  }

  /** A random delay in {@code [0, bound(attempt)]}, uniformly distributed, at millisecond resolution. */
  public Duration delay(int attempt) {
    long bound = boundMillis(attempt);
    return Duration.ofMillis((long) (random.nextDouble() * (bound + 1)));
  }

  /** The delay for the next attempt; each call moves one attempt further until {@link #reset()}. */
  public Duration next() {
    Duration d = delay(attempt);
    if (attempt < Integer.MAX_VALUE) attempt++;
    return d;
  }

  /** Starts over at attempt 0: the last connection was good. */
  public void reset() {
    attempt = 0;
  }

  /** How many delays were handed out since the last reset. */
  public int attempts() {
    return attempt;
  }

  private long boundMillis(int attempt) {
    if (attempt < 0) throw new IllegalArgumentException("attempt must be >= 0: " + attempt);
    // base * 2^attempt without overflow: stop doubling once the cap is reached.
    if (attempt >= 62) return capMillis;
    long factor = 1L << attempt;
    if (baseMillis > capMillis / factor) return capMillis;
    return Math.min(capMillis, baseMillis * factor);
  }
}
