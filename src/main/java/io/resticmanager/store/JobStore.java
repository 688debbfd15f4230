package io.resticmanager.store;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Jobs, idempotent on job id: a repeated start or finish changes nothing and says so, which is how a
 * job's duration is recorded exactly once. A finish and the alerts it raises or resolves commit in one
 * transaction.
 */
public final class JobStore {
  private static final String COLUMNS =
      "id, host_id, kind, status, started_at, finished_at, duration_seconds, exit_code, error, summary";

  private final Database db;

  public JobStore(Database db) {
    this.db = db;
  }

  /** How a start was taken. CONFLICT: the id belongs to another host's job. */
  public enum StartOutcome { STORED, DUPLICATE, CONFLICT }

  /** A job's end as reported by the agent. {@code dataAdded} is null without a backup summary. */
  public record Finish(
      String jobId, JobStatus status, long finishedAt, int exitCode, String error, String summaryJson, Long dataAdded) {}

  /** How a finish was taken. */
  public sealed interface FinishOutcome {}

  /** Newly stored: the duration to record once, and what changed in alerts. */
  public record Recorded(
      JobKind kind, JobStatus status, double durationSeconds, long finishedAt, Long dataAdded, AlertStore.Applied alerts)
      implements FinishOutcome {}

  /** Already finished before; nothing changed. */
  public record Duplicate() implements FinishOutcome {}

  /** No started job with that id for this host. */
  public record Unknown() implements FinishOutcome {}

  public CompletionStage<StartOutcome> start(String hostId, String jobId, JobKind kind, long startedAt) {
    return db.write(c -> {
      Optional<String> owner = ownerOf(c, jobId);
      if (owner.isPresent()) return owner.get().equals(hostId) ? StartOutcome.DUPLICATE : StartOutcome.CONFLICT;
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jobs (id, host_id, kind, started_at) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, jobId);
        ps.setString(2, hostId);
        ps.setString(3, kind.wire());
        ps.setLong(4, startedAt);
        ps.executeUpdate();
      }
      return StartOutcome.STORED;
    });
  }

  /**
   * Stores a job's end once. {@code alertRules} maps the stored job's kind to the alert changes to apply
   * in the same transaction; it is called only for a newly finished job.
   */
  public CompletionStage<FinishOutcome> finish(
      String hostId, Finish f, Function<JobKind, AlertChange> alertRules, long now) {
    return db.write(c -> {
      JobKind kind;
      long startedAt;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT host_id, kind, status, started_at FROM jobs WHERE id = ?")) {
        ps.setString(1, f.jobId());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next() || !hostId.equals(rs.getString("host_id"))) return new Unknown();
          if (rs.getString("status") != null) return new Duplicate();
          kind = JobKind.fromWire(rs.getString("kind")).orElseThrow();
          startedAt = rs.getLong("started_at");
        }
      }
      double duration = Math.max(0L, f.finishedAt() - startedAt) / 1000.0;
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE jobs SET status = ?, finished_at = ?, exit_code = ?, error = ?, duration_seconds = ?,"
              + " data_added = ?, summary = ? WHERE id = ? AND status IS NULL")) {
        ps.setString(1, f.status().wire());
        ps.setLong(2, f.finishedAt());
        ps.setInt(3, f.exitCode());
        Jdbc.setNullableString(ps, 4, f.error());
        ps.setDouble(5, duration);
        Jdbc.setNullableLong(ps, 6, f.dataAdded());
        Jdbc.setNullableString(ps, 7, f.summaryJson());
        ps.setString(8, f.jobId());
        ps.executeUpdate();
      }
      AlertStore.Applied applied = AlertStore.applyIn(c, hostId, alertRules.apply(kind), now);
      return new Recorded(kind, f.status(), duration, f.finishedAt(), f.dataAdded(), applied);
    });
  }

  /**
   * What the jobs API asks for: {@code hostId}, {@code kind} and {@code status} narrow the list when
   * present ({@code running} is a status here: not finished yet); {@code before} continues a page.
   */
  public record Query(Optional<String> hostId, Optional<JobKind> kind, Optional<String> status, int limit,
      Optional<Page.Cursor> before) {}

  /** Newest first (by start, then id), one page. */
  public CompletionStage<Page<JobRow>> list(Query q) {
    List<String> where = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    q.hostId().ifPresent(h -> {
      where.add("host_id = ?");
      args.add(h);
    });
    q.kind().ifPresent(k -> {
      where.add("kind = ?");
      args.add(k.wire());
    });
    q.status().ifPresent(s -> {
      if (s.equals("running")) {
        where.add("status IS NULL");
      } else {
        where.add("status = ?");
        args.add(s);
      }
    });
    q.before().ifPresent(b -> {
      where.add(Page.afterCondition("started_at"));
      args.addAll(List.of(b.at(), b.at(), b.id()));
    });
    args.add(q.limit() + 1);
    String sql = "SELECT " + COLUMNS + " FROM jobs" + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
        + " ORDER BY started_at DESC, id DESC LIMIT ?";
    return db.read(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        Jdbc.bind(ps, args);
        List<JobRow> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) out.add(row(rs));
        }
        return Page.of(out, q.limit(), j -> new Page.Cursor(j.startedAt(), j.id()));
      }
    });
  }

  /** One step of a retention sweep: how many jobs it looked at and deleted, and where the next step starts. */
  public record Swept(int examined, int deleted, Optional<Page.Cursor> next) {}

  /**
   * One step of a retention sweep, in one short transaction: looks at the next {@code batch} jobs in start
   * order after {@code after} (from the oldest when empty) that finished before {@code finishedBefore},
   * and deletes those that are not the newest job of their host, kind and status. Running jobs are never
   * deleted, and what the hosts' entities read at start (the last job and the last success of each kind,
   * the last backup that made a snapshot) survives any retention. A job finishes after it starts, so
   * walking the start index finds every candidate; the cursor keeps each step's cost the same.
   */
  public CompletionStage<Swept> deleteFinishedBefore(long finishedBefore, Optional<Page.Cursor> after, int batch) {
    return db.write(c -> {
      List<String> ids = new ArrayList<>();
      Page.Cursor last = null;
      try (PreparedStatement ps = c.prepareStatement("SELECT id, started_at FROM jobs WHERE started_at < ?"
          + " AND finished_at < ?" + (after.isPresent() ? " AND started_at >= ? AND (started_at > ? OR id > ?)" : "")
          + " ORDER BY started_at, id LIMIT ?")) {
        List<Object> args = new ArrayList<>(List.of(finishedBefore, finishedBefore));
        after.ifPresent(a -> args.addAll(List.of(a.at(), a.at(), a.id())));
        args.add(batch);
        Jdbc.bind(ps, args);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
            last = new Page.Cursor(rs.getLong(2), rs.getString(1));
          }
        }
      }
      if (ids.isEmpty()) return new Swept(0, 0, Optional.empty());
      int deleted;
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM jobs WHERE id IN ("
          + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")"
          + " AND EXISTS (SELECT 1 FROM jobs n WHERE n.host_id = jobs.host_id AND n.kind = jobs.kind"
          + " AND n.status = jobs.status AND n.finished_at > jobs.finished_at)")) {
        Jdbc.bind(ps, new ArrayList<>(ids));
        deleted = ps.executeUpdate();
      }
      return new Swept(ids.size(), deleted, ids.size() < batch ? Optional.empty() : Optional.of(last));
    });
  }

  /** Per host and kind: the last finished job, the last success, and the last backup's added bytes. */
  public record Latest(Map<String, Map<JobKind, Long>> lastJob, Map<String, Map<JobKind, Long>> lastSuccess,
      Map<String, Long> lastBackupAdded) {}

  /** Reads what the fleet needs of every host. */
  public static Latest loadLatest(Connection c) throws SQLException {
    return loadLatest(c, null);
  }

  /** Reads what a host's entity needs at start; {@code hostId} null for every host. */
  public static Latest loadLatest(Connection c, String hostId) throws SQLException {
    String host = hostId == null ? "" : " AND host_id = ?";
    Map<String, Map<JobKind, Long>> lastJob = perHostKind(c,
        "SELECT host_id, kind, MAX(finished_at) AS t FROM jobs WHERE status IS NOT NULL" + host
            + " GROUP BY host_id, kind", hostId);
    Map<String, Map<JobKind, Long>> lastSuccess = perHostKind(c,
        "SELECT host_id, kind, MAX(finished_at) AS t FROM jobs WHERE status = 'succeeded'" + host
            + " GROUP BY host_id, kind", hostId);
    Map<String, Long> added = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT j.host_id, j.data_added FROM jobs j JOIN ("
            + "SELECT host_id, MAX(finished_at) AS t FROM jobs WHERE kind = 'backup' AND data_added IS NOT NULL" + host
            + " GROUP BY host_id) m ON j.host_id = m.host_id AND j.finished_at = m.t"
            + " WHERE j.kind = 'backup' AND j.data_added IS NOT NULL")) {
      if (hostId != null) ps.setString(1, hostId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) added.put(rs.getString(1), rs.getLong(2));
      }
    }
    return new Latest(lastJob, lastSuccess, added);
  }

  /** When the host's last backup that made a snapshot ({@code succeeded} or {@code warning}) ended; 0 when none. */
  static long lastSnapshot(Connection c, String hostId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT MAX(finished_at) FROM jobs"
        + " WHERE host_id = ? AND kind = 'backup' AND status IN ('succeeded', 'warning')")) {
      ps.setString(1, hostId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  private static Map<String, Map<JobKind, Long>> perHostKind(Connection c, String sql, String hostId)
      throws SQLException {
    Map<String, Map<JobKind, Long>> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (hostId != null) ps.setString(1, hostId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          JobKind k = JobKind.fromWire(rs.getString("kind")).orElseThrow();
          out.computeIfAbsent(rs.getString("host_id"), h -> new HashMap<>()).put(k, rs.getLong("t"));
        }
      }
    }
    return out;
  }

  private static Optional<String> ownerOf(Connection c, String jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT host_id FROM jobs WHERE id = ?")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  private static JobRow row(ResultSet rs) throws SQLException {
    String status = rs.getString("status");
    double d = rs.getDouble("duration_seconds");
    Double duration = rs.wasNull() ? null : d;
    int e = rs.getInt("exit_code");
    Integer exit = rs.wasNull() ? null : e;
    return new JobRow(
        rs.getString("id"),
        rs.getString("host_id"),
        JobKind.fromWire(rs.getString("kind")).orElseThrow(),
        status == null ? null : JobStatus.fromWire(status).orElseThrow(),
        rs.getLong("started_at"),
        Jdbc.longOrZero(rs, "finished_at"),
        duration,
        exit,
        rs.getString("error"),
        rs.getString("summary"));
  }
}
