package io.resticmanager.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the database. Queued writes are run together in one transaction and committed
 * once (group commit), so an fsync is shared by every write that arrived while the previous commit
 * was in flight; each caller's future completes only after that commit. When a batch fails, its writes
 * are retried one by one so that one bad write never fails the others. Within a batch each SQL text is
 * prepared once ({@link StatementCache}). One thread, one connection:
 * SQLite allows a single writer, and PostgreSQL gets the same ordering guarantees.
 */
final class GroupCommitWriter {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

  private record Pending<T>(SqlWork<T> work, CompletableFuture<T> result) {}

  private final DataSource dataSource;
  private final int maxBatch;
  private final BlockingQueue<Pending<?>> queue;
  private final Thread thread;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong writes = new AtomicLong();
  private volatile boolean closing;

  GroupCommitWriter(DataSource dataSource, int capacity, int maxBatch) {
    this.dataSource = dataSource;
    this.maxBatch = maxBatch;
    this.queue = new LinkedBlockingQueue<>(capacity);
    this.thread = new Thread(this::run, "restic-manager-store-writer");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  <T> CompletionStage<T> submit(SqlWork<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    if (closing) {
      f.completeExceptionally(new StoreClosedException());
    } else {
      Pending<T> p = new Pending<>(work, f);
      if (!queue.offer(p)) {
        f.completeExceptionally(new StoreOverloadedException(queue.size()));
      } else if (closing && queue.remove(p)) {
        // close() began between the check and the offer and may already have drained the queue.
        f.completeExceptionally(new StoreClosedException());
      }
    }
    return f;
  }

  /** Commits so far and writes so far; their ratio is the mean batch size. */
  long commits() {
    return commits.get();
  }

  long writes() {
    return writes.get();
  }

  /** Stops taking writes, commits everything already queued, then returns. */
  void close(long timeoutMillis) {
    closing = true;
    try {
      thread.join(timeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Pending<?> p;
    while ((p = queue.poll()) != null) p.result().completeExceptionally(new StoreClosedException());
  }

  private void run() {
    List<Pending<?>> batch = new ArrayList<>(maxBatch);
    while (true) {
      Pending<?> first;
      try {
        first = queue.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        if (closing) return;
        continue;
      }
      if (first == null) {
        if (closing) return;
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, maxBatch - 1);
      commitBatch(batch);
      batch.clear();
    }
  }

  private void commitBatch(List<Pending<?>> batch) {
    Object[] results = new Object[batch.size()];
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      StatementCache statements = new StatementCache(c);
      try {
        for (int i = 0; i < results.length; i++) results[i] = batch.get(i).work().apply(statements.connection);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        statements.close();
      }
    } catch (SQLException | RuntimeException e) {
      if (batch.size() == 1) {
        log.warn("Store write failed: [{}]", e.toString());
        batch.get(0).result().completeExceptionally(e);
      } else {
        for (Pending<?> p : batch) commitBatch(List.of(p));
      }
      return;
    }
    commits.incrementAndGet();
    writes.addAndGet(results.length);
    for (int i = 0; i < results.length; i++) complete(batch.get(i), results[i]);
  }

  /**
   * The connection as the writes of one batch see it: {@code prepareStatement(sql)} hands out one
   * statement per SQL text for the whole batch, its {@code close()} only marks it free, and everything is
   * closed for real when the batch ends. A batch runs the same few statements hundreds of times, and
   * preparing one costs more than running it (sqlite-jdbc also reads every column name on each prepare).
   * A SQL text whose statement is still open (nested use) gets a plain statement of its own.
   */
  private static final class StatementCache {
    private final Connection real;
    private final Map<String, Cached> cached = new HashMap<>();
    final Connection connection;

    private final class Cached implements InvocationHandler {
      final PreparedStatement statement;
      final PreparedStatement proxy;
      boolean open;

      Cached(PreparedStatement statement) {
        this.statement = statement;
        this.proxy = (PreparedStatement) Proxy.newProxyInstance(GroupCommitWriter.class.getClassLoader(),
            new Class<?>[] {PreparedStatement.class}, this);
      }

      @Override
      public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        if (method.getName().equals("close") && method.getParameterCount() == 0) {
          open = false;
          return null;
        }
        if (method.getName().equals("isClosed") && method.getParameterCount() == 0) return !open;
        return delegate(statement, method, args);
      }
    }

    StatementCache(Connection real) {
      this.real = real;
      this.connection = (Connection) Proxy.newProxyInstance(GroupCommitWriter.class.getClassLoader(),
          new Class<?>[] {Connection.class}, (self, method, args) ->
              method.getName().equals("prepareStatement") && method.getParameterCount() == 1
                  && method.getParameterTypes()[0] == String.class
                  ? prepare((String) args[0])
                  : delegate(real, method, args));
    }

    private PreparedStatement prepare(String sql) throws SQLException {
      Cached c = cached.get(sql);
      if (c == null) {
        c = new Cached(real.prepareStatement(sql));
        cached.put(sql, c);
      } else if (c.open) {
        return real.prepareStatement(sql);
      } else {
        c.statement.clearParameters();
      }
      c.open = true;
      return c.proxy;
    }

    private static Object delegate(Object target, Method method, Object[] args) throws Throwable {
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }

    void close() {
      for (Cached c : cached.values()) {
        try {
          c.statement.close();
        } catch (SQLException ignored) {
          // closing the connection releases it anyway
        }
      }
      cached.clear();
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> void complete(Pending<T> p, Object value) {
    p.result().complete((T) value);
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is discarded by the pool if it is broken
    }
  }
}
