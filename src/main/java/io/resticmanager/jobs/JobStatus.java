package io.resticmanager.jobs;

import java.util.Locale;
import java.util.Optional;

/** How a restic job ended. {@code WARNING} is restic exit code 3: a snapshot was made but some files were unreadable. */
public enum JobStatus {
  SUCCEEDED, WARNING, FAILED, CANCELLED;

  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  /** Parses a wire name; empty for anything outside the fixed set. */
  public static Optional<JobStatus> fromWire(String s) {
    for (JobStatus k : values()) {
      if (k.wire.equals(s)) return Optional.of(k);
    }
    return Optional.empty();
  }
}
