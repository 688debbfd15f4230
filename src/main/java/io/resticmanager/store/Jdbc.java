package io.resticmanager.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;

/** Small JDBC helpers: binding a list of arguments, nullable columns. */
final class Jdbc {
  private Jdbc() {}

  /** Binds {@code args} in order: {@link String}, {@link Long} or {@link Integer} values. */
  static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      Object a = args.get(i);
      if (a instanceof String t) ps.setString(i + 1, t);
      else if (a instanceof Long n) ps.setLong(i + 1, n);
      else if (a instanceof Integer n) ps.setInt(i + 1, n);
      else throw new IllegalArgumentException("cannot bind " + a.getClass());
    }
  }

  static void setNullableLong(PreparedStatement ps, int i, Long v) throws SQLException {
    if (v == null) ps.setNull(i, Types.BIGINT);
    else ps.setLong(i, v);
  }

  static void setNullableString(PreparedStatement ps, int i, String v) throws SQLException {
    if (v == null) ps.setNull(i, Types.VARCHAR);
    else ps.setString(i, v);
  }

  /** The column as a long, 0 when SQL NULL. */
  static long longOrZero(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? 0L : v;
  }

  static String stringOrEmpty(ResultSet rs, String column) throws SQLException {
    String v = rs.getString(column);
    return v == null ? "" : v;
  }
}
