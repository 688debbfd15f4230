package io.resticmanager.jobs;

import java.util.Locale;
import java.util.Optional;

/** What a restic job does. The wire name is the lower-case constant name. */
public enum JobKind {
  BACKUP, CHECK, FORGET, PRUNE, RESTORE;

  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  /** Parses a wire name; empty for anything outside the fixed set. */
  public static Optional<JobKind> fromWire(String s) {
    for (JobKind k : values()) {
      if (k.wire.equals(s)) return Optional.of(k);
    }
    return Optional.empty();
  }
}
