package io.resticmanager.fleet;

import java.util.Locale;

/** Alert severity, as exposed in the API and in the {@code severity} label. */
public enum Severity {
  WARNING, CRITICAL;

  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }
}
