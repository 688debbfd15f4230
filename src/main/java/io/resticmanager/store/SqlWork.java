package io.resticmanager.store;

import java.sql.Connection;
import java.sql.SQLException;

/** A unit of JDBC work run on a store thread, never on an actor thread. */
@FunctionalInterface
public interface SqlWork<T> {
  T apply(Connection connection) throws SQLException;
}
