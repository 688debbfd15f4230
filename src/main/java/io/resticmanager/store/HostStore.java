package io.resticmanager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Hosts and their tokens: enrollment (a one-use enrollment token traded for an agent token and a host
 * row), the agent-token lookup at connect, versions and last-seen times, and removal. Tokens are
 * stored as SHA-256 only; the plain agent token leaves this class once, in {@link Enrolled}.
 */
public final class HostStore {
  private static final String COLUMNS = "id, name, enrolled_at, last_seen_at, agent_version, restic_version, os";

  private final Database db;

  public HostStore(Database db) {
    this.db = db;
  }

  /** A new enrollment token in plain text (shown once) and when it expires. */
  public record EnrollmentToken(String token, long expiresAt) {}

  public sealed interface EnrollOutcome {}

  /** The host was created; {@code agentToken} is the only copy of the plain token. */
  public record Enrolled(HostRow host, String agentToken) implements EnrollOutcome {}

  /** The enrollment token is unknown, used or expired. */
  public record InvalidToken() implements EnrollOutcome {}

  /** A host of that name is already enrolled; the enrollment token stays unused. */
  public record DuplicateHost() implements EnrollOutcome {}

  public CompletionStage<EnrollmentToken> createEnrollmentToken(long now, long ttlMillis) {
    String token = Tokens.newToken();
    long expires = now + ttlMillis;
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO enrollment_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)")) {
        ps.setString(1, Tokens.sha256Hex(token));
        ps.setLong(2, now);
        ps.setLong(3, expires);
        ps.executeUpdate();
      }
      return new EnrollmentToken(token, expires);
    });
  }

  public CompletionStage<EnrollOutcome> enroll(String enrollmentToken, String hostname, String hostId, long now) {
    String hash = Tokens.sha256Hex(enrollmentToken);
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT expires_at, used_at FROM enrollment_tokens WHERE token_hash = ?")) {
        ps.setString(1, hash);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) return new InvalidToken();
          rs.getLong("used_at");
          boolean used = !rs.wasNull();
          if (used || rs.getLong("expires_at") <= now) return new InvalidToken();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM hosts WHERE name = ?")) {
        ps.setString(1, hostname);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) return new DuplicateHost();
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO hosts (id, name, enrolled_at) VALUES (?, ?, ?)")) {
        ps.setString(1, hostId);
        ps.setString(2, hostname);
        ps.setLong(3, now);
        ps.executeUpdate();
      }
      String agentToken = Tokens.newToken();
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO agent_tokens (token_hash, host_id, created_at) VALUES (?, ?, ?)")) {
        ps.setString(1, Tokens.sha256Hex(agentToken));
        ps.setString(2, hostId);
        ps.setLong(3, now);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE enrollment_tokens SET used_at = ?, used_by_host = ? WHERE token_hash = ?")) {
        ps.setLong(1, now);
        ps.setString(2, hostId);
        ps.setString(3, hash);
        ps.executeUpdate();
      }
      return new Enrolled(new HostRow(hostId, hostname, now, 0, "", "", ""), agentToken);
    });
  }

  /** The host an agent token belongs to; empty when unknown or revoked. */
  public CompletionStage<Optional<String>> hostOfAgentToken(String agentToken) {
    String hash = Tokens.sha256Hex(agentToken);
    return db.read(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT host_id FROM agent_tokens WHERE token_hash = ?")) {
        ps.setString(1, hash);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        }
      }
    });
  }

  public CompletionStage<Void> updateHello(
      String hostId, String agentVersion, String resticVersion, String os, long seenAt) {
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE hosts SET agent_version = ?, restic_version = ?, os = ?, last_seen_at = ? WHERE id = ?")) {
        ps.setString(1, agentVersion);
        ps.setString(2, resticVersion);
        ps.setString(3, os);
        ps.setLong(4, seenAt);
        ps.setString(5, hostId);
        ps.executeUpdate();
      }
      return null;
    });
  }

  /**
   * Saves many last-seen times in one transaction. A time never goes back: in a cluster the node a host's
   * entity has left may still save an older time after the node it moved to saved a newer one.
   */
  public CompletionStage<Void> saveLastSeen(Map<String, Long> lastSeenByHost) {
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE hosts SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)")) {
        for (Map.Entry<String, Long> e : lastSeenByHost.entrySet()) {
          ps.setLong(1, e.getValue());
          ps.setString(2, e.getKey());
          ps.setLong(3, e.getValue());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  /** Keeps {@code stats} as the host's latest repository statistics, replacing what was kept. */
  public CompletionStage<Void> saveRepositoryStats(String hostId, RepositoryStatsRow stats) {
    return db.write(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO repository_stats (host_id, collected_at, snapshot_count, total_size_bytes,"
              + " total_uncompressed_size_bytes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET"
              + " collected_at = excluded.collected_at, snapshot_count = excluded.snapshot_count,"
              + " total_size_bytes = excluded.total_size_bytes,"
              + " total_uncompressed_size_bytes = excluded.total_uncompressed_size_bytes")) {
        ps.setString(1, hostId);
        ps.setLong(2, stats.collectedAt());
        ps.setLong(3, stats.snapshotCount());
        ps.setLong(4, stats.totalSizeBytes());
        Jdbc.setNullableLong(ps, 5, stats.totalUncompressedSizeBytes());
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** The host's latest repository statistics; empty when its agent never sent any. */
  static Optional<RepositoryStatsRow> loadRepositoryStats(Connection c, String hostId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT collected_at, snapshot_count, total_size_bytes,"
        + " total_uncompressed_size_bytes FROM repository_stats WHERE host_id = ?")) {
      ps.setString(1, hostId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) return Optional.empty();
        long uncompressed = rs.getLong(4);
        Long known = rs.wasNull() ? null : uncompressed;
        return Optional.of(new RepositoryStatsRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), known));
      }
    }
  }

  /**
   * Deletes the host with its tokens, jobs, alerts and repository statistics; false when there was no such
   * host.
   */
  public CompletionStage<Boolean> delete(String hostId) {
    return db.write(c -> {
      for (String table : new String[] {"agent_tokens", "alerts", "jobs", "repository_stats"}) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE host_id = ?")) {
          ps.setString(1, hostId);
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM hosts WHERE id = ?")) {
        ps.setString(1, hostId);
        return ps.executeUpdate() == 1;
      }
    });
  }

  /** Every host, by name. */
  public static List<HostRow> loadAll(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM hosts ORDER BY name")) {
      return rows(ps);
    }
  }

  /** One host; empty when there is no such host. */
  public static Optional<HostRow> load(Connection c, String hostId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM hosts WHERE id = ?")) {
      ps.setString(1, hostId);
      List<HostRow> rows = rows(ps);
      return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }
  }

  /** What a host's entity starts from; empty when no such host is enrolled. */
  public CompletionStage<Optional<StoredHost>> state(String hostId) {
    return db.read(c -> StoredHost.load(c, hostId));
  }

  /** Every host, by name (see {@link #loadAll}). */
  public CompletionStage<List<HostRow>> all() {
    return db.read(HostStore::loadAll);
  }

  /** The ids of every host. */
  public CompletionStage<List<String>> ids() {
    return db.read(c -> {
      List<String> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM hosts"); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(rs.getString(1));
      }
      return out;
    });
  }

  private static List<HostRow> rows(PreparedStatement ps) throws SQLException {
    List<HostRow> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new HostRow(
            rs.getString("id"),
            rs.getString("name"),
            rs.getLong("enrolled_at"),
            Jdbc.longOrZero(rs, "last_seen_at"),
            Jdbc.stringOrEmpty(rs, "agent_version"),
            Jdbc.stringOrEmpty(rs, "restic_version"),
            Jdbc.stringOrEmpty(rs, "os")));
      }
    }
    return out;
  }
}
