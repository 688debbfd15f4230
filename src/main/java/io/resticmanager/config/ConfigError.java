package io.resticmanager.config;

/**
 * A bad configuration value: names the key (and the environment variable that can set it) and the
 * value. {@code Main} prints {@link #getMessage()} as the one stderr line and exits 2. Never carries a
 * secret: secret-valued keys report {@code ***} as their value.
 */
public final class ConfigError extends RuntimeException {
  private final String key;

  public ConfigError(String key, String value, String reason) {
    super("invalid configuration: " + key + " = \"" + value + "\": " + reason);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
