package io.resticmanager.fleet;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.store.AlertChange;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The server-side alert rules of CONTRACT §6 as pure functions; {@link HostEntity} applies them. A job
 * that ends {@code failed} or {@code cancelled} raises its kind's alert; a {@code succeeded} one resolves
 * it (a succeeded backup also resolves {@code backup_partial} and {@code backup_stale}). A backup that ends
 * {@code warning} (restic exit 3: a snapshot was made but some files were unreadable) raises
 * {@code backup_partial} and, having made a snapshot, resolves {@code backup_stale}; it does not resolve
 * {@code backup_failed}, which waits for a success. Other kinds' {@code warning} changes nothing. Restore
 * jobs raise nothing.
 */
public final class AlertRules {
  private AlertRules() {}

  /** The alert a failed job of this kind raises, if any. */
  public static Optional<AlertKind> failureAlert(JobKind kind) {
    return switch (kind) {
      case BACKUP -> Optional.of(AlertKind.BACKUP_FAILED);
      case FORGET -> Optional.of(AlertKind.FORGET_FAILED);
      case PRUNE -> Optional.of(AlertKind.PRUNE_FAILED);
      case CHECK -> Optional.of(AlertKind.CHECK_FAILED);
      case RESTORE -> Optional.empty();
    };
  }

  /** What a newly finished job does to its host's alerts. */
  public static AlertChange onJobFinished(
      String hostName, JobKind kind, JobStatus status, int exitCode, String error) {
    Optional<AlertKind> alert = failureAlert(kind);
    if (alert.isEmpty()) return AlertChange.NONE;
    return switch (status) {
      case FAILED, CANCELLED -> new AlertChange(
          List.of(new AlertChange.Raise(alert.get(), failureMessage(hostName, kind, status, exitCode, error))),
          Set.of());
      case SUCCEEDED -> new AlertChange(List.of(), kind == JobKind.BACKUP
          ? EnumSet.of(AlertKind.BACKUP_FAILED, AlertKind.BACKUP_PARTIAL, AlertKind.BACKUP_STALE)
          : Set.of(alert.get()));
      case WARNING -> kind == JobKind.BACKUP
          ? new AlertChange(List.of(new AlertChange.Raise(AlertKind.BACKUP_PARTIAL,
              partialMessage(hostName, exitCode, error))), Set.of(AlertKind.BACKUP_STALE))
          : AlertChange.NONE;
    };
  }

  /** True when a job of this kind and status made a snapshot: a backup that succeeded or warned. */
  public static boolean madeSnapshot(JobKind kind, JobStatus status) {
    return kind == JobKind.BACKUP && (status == JobStatus.SUCCEEDED || status == JobStatus.WARNING);
  }

  /** True when the host has been silent long enough to be offline. */
  public static boolean isOffline(long now, long lastHeardOrStart, Duration offlineAfter) {
    return now - lastHeardOrStart >= offlineAfter.toMillis();
  }

  /** True when the last backup that made a snapshot (or the enrolment, when there was none) is older than the limit. */
  public static boolean isBackupStale(long now, long lastSnapshotOrEnrolled, Duration maxAge) {
    return now - lastSnapshotOrEnrolled >= maxAge.toMillis();
  }

  public static String offlineMessage(String hostName, Duration offlineAfter) {
    return "agent of host " + hostName + " has sent nothing for " + human(offlineAfter);
  }

  public static String staleMessage(String hostName, Duration maxAge, boolean neverSnapshotted) {
    return neverSnapshotted
        ? "host " + hostName + " has had no backup that made a snapshot since enrolment, " + human(maxAge) + " ago"
        : "host " + hostName + " has had no backup that made a snapshot for " + human(maxAge);
  }

  /** A configured duration in its largest whole unit: 26 h, 90 s, 1500 ms (never "0 h" or "1 s" for 1.5 s). */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 3_600_000 == 0) return ms / 3_600_000 + " h";
    if (ms != 0 && ms % 60_000 == 0) return ms / 60_000 + " min";
    if (ms % 1000 == 0) return ms / 1000 + " s";
    return ms + " ms";
  }

  private static String failureMessage(String hostName, JobKind kind, JobStatus status, int exitCode, String error) {
    return kind.wire() + " of host " + hostName + " " + (status == JobStatus.CANCELLED ? "was cancelled" : "failed")
        + " (exit code " + exitCode + ")" + lastLine(error);
  }

  private static String partialMessage(String hostName, int exitCode, String error) {
    return "backup of host " + hostName + " could not read some files (exit code " + exitCode + ")" + lastLine(error);
  }

  /** {@code ": "} and the error's last line, cut to 200 chars; empty without an error. */
  private static String lastLine(String error) {
    String last = error == null ? "" : error.strip().lines().reduce((a, b) -> b).orElse("");
    if (last.length() > 200) last = last.substring(0, 200) + "…";
    return last.isEmpty() ? "" : ": " + last;
  }
}
