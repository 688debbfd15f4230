package io.resticmanager.store;

import io.resticmanager.fleet.AlertKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * Alerts: raise (at most one open per host and kind, enforced by a partial unique index), resolve,
 * acknowledge, list. The static helpers run inside another aggregate's transaction so that an alert
 * changes atomically with its cause.
 */
public final class AlertStore {
  private static final String COLUMNS =
      "id, host_id, kind, status, raised_at, acknowledged_at, resolved_at, message";

  private final Database db;

  public AlertStore(Database db) {
    this.db = db;
  }

  /** Which alerts a listing returns. */
  public enum Filter { OPEN, RESOLVED, ALL }

  /** Applies raises and resolutions for one host; returns the rows that actually changed. */
  public CompletionStage<Applied> apply(String hostId, AlertChange change, long at) {
    return db.write(c -> applyIn(c, hostId, change, at));
  }

  /** What an {@link AlertChange} did: newly raised rows and newly resolved rows. */
  public record Applied(List<AlertRow> raised, List<AlertRow> resolved) {
    public static final Applied NOTHING = new Applied(List.of(), List.of());
  }

  static Applied applyIn(Connection c, String hostId, AlertChange change, long at) throws SQLException {
    if (change.raise().isEmpty() && change.resolve().isEmpty()) return Applied.NOTHING;
    List<AlertRow> resolved = new ArrayList<>();
    for (AlertKind k : change.resolve()) resolved.addAll(resolve(c, hostId, k, at));
    List<AlertRow> raised = new ArrayList<>();
    for (AlertChange.Raise r : change.raise()) raise(c, hostId, r.kind(), at, r.message()).ifPresent(raised::add);
    return new Applied(List.copyOf(raised), List.copyOf(resolved));
  }

  static Optional<AlertRow> raise(Connection c, String hostId, AlertKind kind, long at, String message)
      throws SQLException {
    String id = UUID.randomUUID().toString();
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO alerts (id, host_id, kind, severity, status, raised_at, message) VALUES (?, ?, ?, ?, 'open', ?, ?)"
            + " ON CONFLICT (host_id, kind) WHERE status = 'open' DO NOTHING")) {
      ps.setString(1, id);
      ps.setString(2, hostId);
      ps.setString(3, kind.wire());
      ps.setString(4, kind.severity().wire());
      ps.setLong(5, at);
      ps.setString(6, message);
      if (ps.executeUpdate() == 0) return Optional.empty();
    }
    return Optional.of(new AlertRow(id, hostId, kind, true, at, 0, 0, message));
  }

  static List<AlertRow> resolve(Connection c, String hostId, AlertKind kind, long at) throws SQLException {
    List<AlertRow> open = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT " + COLUMNS + " FROM alerts WHERE host_id = ? AND kind = ? AND status = 'open'")) {
      ps.setString(1, hostId);
      ps.setString(2, kind.wire());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) open.add(row(rs));
      }
    }
    if (open.isEmpty()) return open;
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE host_id = ? AND kind = ? AND status = 'open'")) {
      ps.setLong(1, at);
      ps.setString(2, hostId);
      ps.setString(3, kind.wire());
      ps.executeUpdate();
    }
    List<AlertRow> out = new ArrayList<>(open.size());
    for (AlertRow a : open) {
      out.add(new AlertRow(a.id(), a.hostId(), a.kind(), false, a.raisedAt(), a.acknowledgedAt(), at, a.message()));
    }
    return out;
  }

  /** Acknowledges an alert (it stays open until resolved); empty when there is no such alert. */
  public CompletionStage<Optional<AlertRow>> acknowledge(String id, long at) {
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE alerts SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL")) {
        ps.setLong(1, at);
        ps.setString(2, id);
        ps.executeUpdate();
      }
      return byId(c, id);
    });
  }

  /** Newest first (by raising, then id), one page; {@code before} continues a page. */
  public CompletionStage<Page<AlertRow>> list(Filter filter, int limit, Optional<Page.Cursor> before) {
    List<String> where = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    switch (filter) {
      case OPEN -> where.add("status = 'open'");
      case RESOLVED -> where.add("status = 'resolved'");
      case ALL -> { }
    }
    before.ifPresent(b -> {
      where.add(Page.afterCondition("raised_at"));
      args.addAll(List.of(b.at(), b.at(), b.id()));
    });
    args.add(limit + 1);
    String sql = "SELECT " + COLUMNS + " FROM alerts" + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
        + " ORDER BY raised_at DESC, id DESC LIMIT ?";
    return db.read(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        Jdbc.bind(ps, args);
        return Page.of(rows(ps), limit, a -> new Page.Cursor(a.raisedAt(), a.id()));
      }
    });
  }

  /** One host's alerts, open and resolved, newest first (by raising, then id); at most {@code limit}. */
  public CompletionStage<List<AlertRow>> listForHost(String hostId, int limit) {
    return db.read(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT " + COLUMNS + " FROM alerts WHERE host_id = ? ORDER BY raised_at DESC, id DESC LIMIT ?")) {
        ps.setString(1, hostId);
        ps.setInt(2, limit);
        return rows(ps);
      }
    });
  }

  /** Every open alert; read once at start by the fleet. */
  public static List<AlertRow> loadOpen(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM alerts WHERE status = 'open'")) {
      return rows(ps);
    }
  }

  /** The open alerts of one host. */
  public static List<AlertRow> loadOpen(Connection c, String hostId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT " + COLUMNS + " FROM alerts WHERE host_id = ? AND status = 'open'")) {
      ps.setString(1, hostId);
      return rows(ps);
    }
  }

  private static Optional<AlertRow> byId(Connection c, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM alerts WHERE id = ?")) {
      ps.setString(1, id);
      List<AlertRow> rows = rows(ps);
      return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
  }

  private static List<AlertRow> rows(PreparedStatement ps) throws SQLException {
    List<AlertRow> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) out.add(row(rs));
    }
    return out;
  }

  private static AlertRow row(ResultSet rs) throws SQLException {
    return new AlertRow(
        rs.getString("id"),
        rs.getString("host_id"),
        AlertKind.fromWire(rs.getString("kind")).orElseThrow(),
        "open".equals(rs.getString("status")),
        rs.getLong("raised_at"),
        Jdbc.longOrZero(rs, "acknowledged_at"),
        Jdbc.longOrZero(rs, "resolved_at"),
        rs.getString("message"));
  }
}
