package io.resticmanager.fleet;

import java.util.Locale;
import java.util.Optional;

/** The server-side alert kinds of the contract (§6), each with its fixed severity. */
public enum AlertKind {
  BACKUP_FAILED(Severity.WARNING),
  FORGET_FAILED(Severity.WARNING),
  PRUNE_FAILED(Severity.CRITICAL),
  CHECK_FAILED(Severity.CRITICAL),
  AGENT_OFFLINE(Severity.WARNING),
  BACKUP_PARTIAL(Severity.WARNING),
  BACKUP_STALE(Severity.WARNING);

  private final Severity severity;
  private final String wire = name().toLowerCase(Locale.ROOT);

  AlertKind(Severity severity) {
    this.severity = severity;
  }

  public Severity severity() {
    return severity;
  }

  public String wire() {
    return wire;
  }

  public static Optional<AlertKind> fromWire(String s) {
    for (AlertKind k : values()) {
      if (k.wire.equals(s)) return Optional.of(k);
    }
    return Optional.empty();
  }
}
