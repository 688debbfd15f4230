package io.resticmanager.store;

/** The write queue is full; nothing was written and the caller should retry later. */
public final class StoreOverloadedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public StoreOverloadedException(int queued) {
    super("store write queue is full (" + queued + " queued)");
  }
}
