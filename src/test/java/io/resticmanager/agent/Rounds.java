package io.resticmanager.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Random;

/**
 * Stand-ins for the randomness of the agent's rounds over its server URLs and of its backoff, so tests
 * decide which URL comes first and can tell an immediate hand-over from a backoff wait.
 */
final class Rounds {
  private Rounds() {}

  /** Shuffles a list into the order it had ({@code Collections.shuffle} swaps element i-1 with nextInt(i)). */
  static Random keepOrder() {
    return new Random() {
      @Override
      public int nextInt(int bound) {
        return bound - 1;
      }
    };
  }

  /** Shuffles a list of two into reverse order. */
  static Random swapTwo() {
    return new Random() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }
    };
  }

  /** Every delay about a minute: what happens within a test's deadline did not wait for a backoff. */
  static Backoff minuteBackoff() {
    return new Backoff(Duration.ofMinutes(1), Duration.ofMinutes(1), new Random() {
      @Override
      public double nextDouble() {
        return 0.99;
      }
    });
  }

  /** A port on 127.0.0.1 where nothing listens. */
  static int deadPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
