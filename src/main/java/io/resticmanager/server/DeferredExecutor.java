package io.resticmanager.server;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;

/**
 * An executor whose target is set later: the database is opened before the actor system (whose JDBC
 * dispatcher runs its reads) exists. Tasks submitted before {@link #set} wait for it; none are expected.
 */
final class DeferredExecutor implements Executor {
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile Executor target;

  void set(Executor executor) {
    target = executor;
    ready.countDown();
  }

  @Override
  public void execute(Runnable task) {
    Executor t = target;
    if (t == null) {
      try {
        ready.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted before the JDBC dispatcher was ready", e);
      }
      t = target;
    }
    t.execute(task);
  }
}
