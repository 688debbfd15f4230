package io.resticmanager;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Version and git revision baked in at build time, plus the running Java version. */
public record BuildInfo(String version, String revision, String javaVersion) {

  private static final BuildInfo CURRENT = load();

  public static BuildInfo current() {
    return CURRENT;
  }

  private static BuildInfo load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/restic-manager-build.properties")) {
      if (in != null) p.load(in);
    } catch (IOException e) {
      // fall through to "unknown"
    }
    return new BuildInfo(
        clean(p.getProperty("version")), clean(p.getProperty("revision")), System.getProperty("java.version"));
  }

  private static String clean(String v) {
    return v == null || v.isBlank() || v.startsWith("${") ? "unknown" : v.trim();
  }
}
