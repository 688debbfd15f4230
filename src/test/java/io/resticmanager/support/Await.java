package io.resticmanager.support;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/** Waits for a condition with a deadline, checking it every few milliseconds; fails with the last value seen. */
public final class Await {
  private static final long POLL_NANOS = Duration.ofMillis(25).toNanos();

  private Await() {}

  /** Calls {@code probe} until {@code done} accepts its value; returns that value. */
  public static <T> T until(Duration deadline, Callable<T> probe, Predicate<T> done) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    T last;
    while (true) {
      last = probe.call();
      if (done.test(last)) return last;
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("condition not met within " + deadline + "; last value: " + last);
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  /** Waits until {@code condition} is true. */
  public static void until(Duration deadline, Callable<Boolean> condition) throws Exception {
    until(deadline, condition, Boolean.TRUE::equals);
  }
}
