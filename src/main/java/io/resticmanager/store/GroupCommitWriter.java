package io.resticmanager.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
 * are retried one by one so that one bad write never fails the others. One thread, one connection:
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
    } else if (!queue.offer(new Pending<>(work, f))) {
      f.completeExceptionally(new StoreOverloadedException(queue.size()));
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
      try {
        for (int i = 0; i < results.length; i++) results[i] = batch.get(i).work().apply(c);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
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
