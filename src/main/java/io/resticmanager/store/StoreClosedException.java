package io.resticmanager.store;

/** A write arrived after the store began to close; nothing was written. */
public final class StoreClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public StoreClosedException() {
    super("store is closed");
  }
}
