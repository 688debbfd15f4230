package io.resticmanager.store;

import java.sql.SQLException;

/** An unchecked wrapper for a JDBC failure. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(SQLException cause) {
    super(cause.getMessage(), cause);
  }
}
