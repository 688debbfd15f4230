package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final Duration BASE = Duration.ofSeconds(1);
  private static final Duration CAP = Duration.ofSeconds(60);

  @Test
  void everyDelayLiesBetweenZeroAndTheCappedExponentialBound() {
    Backoff b = new Backoff(BASE, CAP, new Random(42));
    for (int attempt = 0; attempt < 100; attempt++) {
      long bound = Math.min(CAP.toMillis(), BASE.toMillis() * (attempt >= 30 ? 1L << 30 : 1L << attempt));
      assertEquals(bound, b.bound(attempt).toMillis(), "bound of attempt " + attempt);
      for (int i = 0; i < 200; i++) {
        long d = b.delay(attempt).toMillis();
        assertTrue(d >= 0 && d <= bound, "attempt " + attempt + " gave " + d + " ms, bound " + bound);
      }
    }
  }

  @Test
  void theBoundDoublesFromOneSecondAndStopsAtTheSixtySecondCap() {
    Backoff b = new Backoff(BASE, CAP, new Random(1));
    assertEquals(1_000, b.bound(0).toMillis());
    assertEquals(2_000, b.bound(1).toMillis());
    assertEquals(32_000, b.bound(5).toMillis());
    assertEquals(60_000, b.bound(6).toMillis());
    assertEquals(60_000, b.bound(1_000).toMillis());
    assertEquals(60_000, b.bound(Integer.MAX_VALUE).toMillis());
  }

  @Test
  void delaysAtTheCapReachCloseToTheCap() {
    Backoff b = new Backoff(BASE, CAP, new Random(7));
    long max = 0;
    for (int i = 0; i < 1_000; i++) max = Math.max(max, b.delay(20).toMillis());
    assertTrue(max > 55_000 && max <= 60_000, "largest of 1000 capped delays was " + max + " ms");
  }

  @Test
  void jitterSpreadsDelaysOverTheWholeRange() {
    Backoff b = new Backoff(BASE, CAP, new Random(2024));
    Set<Long> distinct = new HashSet<>();
    long low = Long.MAX_VALUE;
    long high = 0;
    for (int i = 0; i < 500; i++) {
      long d = b.delay(10).toMillis();
      distinct.add(d);
      low = Math.min(low, d);
      high = Math.max(high, d);
    }
    assertTrue(distinct.size() > 400, "only " + distinct.size() + " distinct delays of 500");
    assertTrue(low < 6_000, "smallest delay " + low + " ms: full jitter must reach near zero");
    assertTrue(high > 54_000, "largest delay " + high + " ms");
  }

  @Test
  void theSameSeedGivesTheSameDelays() {
    Backoff a = new Backoff(BASE, CAP, new Random(99));
    Backoff b = new Backoff(BASE, CAP, new Random(99));
    for (int i = 0; i < 20; i++) assertEquals(a.next(), b.next());
  }

  @Test
  void nextClimbsOneAttemptPerCallAndResetStartsOver() {
    Backoff b = new Backoff(BASE, CAP, new Random(5));
    for (int i = 0; i < 10; i++) b.next();
    assertEquals(10, b.attempts());
    b.reset();
    assertEquals(0, b.attempts());
    for (int i = 0; i < 50; i++) {
      b.reset();
      assertTrue(b.next().toMillis() <= 1_000, "first delay after reset must be within the base");
    }
  }

  @Test
  void aCapBelowTheBaseOrANonPositiveBaseIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ofSeconds(10), Duration.ofSeconds(1), new Random()));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, CAP, new Random()));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(BASE, CAP, new Random()).delay(-1));
  }
}
