package io.resticmanager.store;

import io.resticmanager.fleet.AlertKind;
import java.util.List;
import java.util.Set;

/** Alerts to raise and kinds to resolve for one host, applied in the same transaction as their cause. */
public record AlertChange(List<Raise> raise, Set<AlertKind> resolve) {
  public static final AlertChange NONE = new AlertChange(List.of(), Set.of());

  /** An alert to raise with its operator-facing message. */
  public record Raise(AlertKind kind, String message) {}

  public AlertChange {
    raise = List.copyOf(raise);
    resolve = Set.copyOf(resolve);
  }
}
