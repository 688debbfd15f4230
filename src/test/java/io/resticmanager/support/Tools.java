package io.resticmanager.support;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * External programs and services a test needs. Missing ones skip the test, unless
 * {@code RM_REQUIRE_TOOLS=1} (set by CI), in which case they fail it.
 */
public final class Tools {
  private Tools() {}

  public static boolean required() {
    return "1".equals(System.getenv("RM_REQUIRE_TOOLS"));
  }

  /** Skips or fails the calling test when {@code available} is false. */
  public static void need(boolean available, String what) {
    if (available) return;
    if (required()) fail(what + " is required (RM_REQUIRE_TOOLS=1) but is not available");
    Assumptions.assumeTrue(false, what + " is not available; skipping");
  }

  /** The executable's path on PATH; skips or fails the test when it is missing. */
  public static Path executable(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(":")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) return p;
    }
    need(false, "the program '" + name + "'");
    throw new IllegalStateException("unreachable");
  }
}
