package io.resticmanager.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.resticmanager.config.Settings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database: a one-connection writer pool behind a {@link GroupCommitWriter} and a reader pool whose
 * queries run on the given blocking executor (a dedicated Pekko dispatcher in the server). Migrates the
 * schema with Flyway when opened. Actors never call JDBC directly: they get a {@link CompletionStage}
 * from {@link #write} or {@link #read} and pipe it to themselves. Closing commits queued writes first.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final HikariDataSource writerPool;
  private final HikariDataSource readerPool;
  private final GroupCommitWriter writer;
  private final Executor readExecutor;
  private final boolean sqlite;
  private volatile boolean closed;

  private Database(Settings.Db db, Executor readExecutor) {
    this.sqlite = db.isSqlite();
    this.readExecutor = readExecutor;
    migrate(db);
    this.writerPool = pool(db, "restic-manager-writer", 1);
    try {
      this.readerPool = pool(db, "restic-manager-reader", db.poolSize());
    } catch (RuntimeException e) {
      writerPool.close();
      throw e;
    }
    this.writer = new GroupCommitWriter(writerPool, 100_000, 512);
  }

  /** Opens the pools and migrates the schema. Blocks; call at start-up, not from an actor. */
  public static Database open(Settings.Db db, Executor readExecutor) {
    return new Database(db, readExecutor);
  }

  private HikariDataSource pool(Settings.Db db, String name, int size) {
    HikariConfig c = new HikariConfig();
    c.setPoolName(name);
    c.setJdbcUrl(db.url());
    if (!db.user().isEmpty()) c.setUsername(db.user());
    if (!db.password().isEmpty()) c.setPassword(db.password());
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(Math.min(size, 1));
    c.setConnectionTimeout(10_000);
    if (sqlite) {
      // Pragmas are applied by sqlite-jdbc to every connection it opens.
      c.addDataSourceProperty("journal_mode", "WAL");
      c.addDataSourceProperty("synchronous", db.sqliteSynchronous());
      c.addDataSourceProperty("foreign_keys", "true");
      c.addDataSourceProperty("busy_timeout", "10000");
      // No statement here reads generated keys; without this sqlite-jdbc regex-scans every statement.
      c.addDataSourceProperty("jdbc.get_generated_keys", "false");
    }
    return new HikariDataSource(c);
  }

  /** Flyway opens its own connections: on PostgreSQL it needs two at once. */
  private static void migrate(Settings.Db db) {
    Flyway.configure()
        .dataSource(db.url(), db.user().isEmpty() ? null : db.user(), db.password().isEmpty() ? null : db.password())
        .locations("classpath:db/migration")
        .failOnMissingLocations(true)
        .load()
        .migrate();
  }

  public boolean isSqlite() {
    return sqlite;
  }

  /** Runs {@code work} in the next group commit; completes after the commit. */
  public <T> CompletionStage<T> write(SqlWork<T> work) {
    return writer.submit(work);
  }

  /** Runs a read-only query on the reader pool, on the blocking executor. */
  public <T> CompletionStage<T> read(SqlWork<T> work) {
    if (closed) return CompletableFuture.failedFuture(new StoreClosedException());
    return CompletableFuture.supplyAsync(() -> readNow(work), readExecutor);
  }

  /** Runs a read-only query on the calling thread. For start-up and tests only. */
  public <T> T readNow(SqlWork<T> work) {
    try (Connection c = readerPool.getConnection()) {
      return work.apply(c);
    } catch (SQLException e) {
      throw new StoreException(e);
    }
  }

  /** Completes when every write queued before it has been committed. */
  public CompletionStage<Void> flush() {
    return write(c -> null);
  }

  /** True when a trivial query answers; used by {@code /readyz}. */
  public CompletionStage<Boolean> ping() {
    return read(c -> {
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM hosts")) {
        return rs.next();
      }
    }).exceptionally(e -> false);
  }

  /** Commits count and writes count of the group-commit writer (mean batch = writes / commits). */
  public long[] writerStats() {
    return new long[] {writer.commits(), writer.writes()};
  }

  /** Commits queued writes, then closes both pools. Idempotent. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    writer.close(30_000);
    readerPool.close();
    writerPool.close();
    log.info("Database closed");
  }
}
