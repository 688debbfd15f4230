package io.resticmanager.support;

import io.resticmanager.config.Settings;
import io.resticmanager.store.Database;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.ForkJoinPool;

/**
 * Real databases for tests: a SQLite file in a temporary directory, or a fresh schema in the
 * PostgreSQL of development and CI machines ({@code RM_TEST_PG_URL}, default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}, user {@code RM_TEST_PG_USER}, default postgres).
 */
public final class TestDatabases {
  private TestDatabases() {}

  public static String pgUrl() {
    return System.getenv().getOrDefault("RM_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
  }

  public static String pgUser() {
    return System.getenv().getOrDefault("RM_TEST_PG_USER", "postgres");
  }

  public static Settings.Db sqlite(Path dir) {
    return new Settings.Db("jdbc:sqlite:" + dir.resolve("restic-manager.db"), "", "", 4, "FULL");
  }

  /** A new empty schema in the test PostgreSQL; skips or fails the test when there is none. */
  public static Settings.Db freshPostgresSchema() {
    String schema = "rm_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), "");
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      Tools.need(false, "PostgreSQL at " + pgUrl() + " (" + e.getMessage() + ")");
    }
    String sep = pgUrl().contains("?") ? "&" : "?";
    return new Settings.Db(pgUrl() + sep + "currentSchema=" + schema, pgUser(), "", 4, "FULL");
  }

  /** Drops a schema made by {@link #freshPostgresSchema()}. */
  public static void dropPostgresSchema(Settings.Db db) {
    String url = db.url();
    String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), "");
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      // best effort: a leftover schema in a test database harms nothing
    }
  }

  public static Database open(Settings.Db db) {
    return Database.open(db, ForkJoinPool.commonPool());
  }
}
