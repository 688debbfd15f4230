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
 * The server-side alert rules of CONTRACT §6 as pure functions; {@link Fleet} applies them. A job that
 * ends {@code failed} or {@code cancelled} raises its kind's alert; a {@code succeeded} one resolves it
 * (a succeeded backup also resolves {@code backup_stale}); {@code warning} (restic exit 3: a snapshot was
 * made but some files were unreadable) neither raises nor resolves, and does not count as a success.
 * Restore jobs raise nothing.
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
      case SUCCEEDED -> new AlertChange(List.of(),
          kind == JobKind.BACKUP ? EnumSet.of(AlertKind.BACKUP_FAILED, AlertKind.BACKUP_STALE) : Set.of(alert.get()));
      case WARNING -> AlertChange.NONE;
    };
  }

  /** True when the host has been silent long enough to be offline. */
  public static boolean isOffline(long now, long lastHeardOrStart, Duration offlineAfter) {
    return now - lastHeardOrStart >= offlineAfter.toMillis();
  }

  /** True when the last success (or the enrolment, when there was none) is older than the limit. */
  public static boolean isBackupStale(long now, long lastSuccessOrEnrolled, Duration maxAge) {
    return now - lastSuccessOrEnrolled >= maxAge.toMillis();
  }

  public static String offlineMessage(String hostName, Duration offlineAfter) {
    return "agent of host " + hostName + " has sent nothing for " + human(offlineAfter);
  }

  public static String staleMessage(String hostName, Duration maxAge, boolean neverSucceeded) {
    return neverSucceeded
        ? "host " + hostName + " has had no successful backup since enrolment, " + human(maxAge) + " ago"
        : "host " + hostName + " has had no successful backup for " + human(maxAge);
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
    String first = error == null ? "" : error.strip().lines().reduce((a, b) -> b).orElse("");
    if (first.length() > 200) first = first.substring(0, 200) + "…";
    return kind.wire() + " of host " + hostName + " " + (status == JobStatus.CANCELLED ? "was cancelled" : "failed")
        + " (exit code " + exitCode + ")" + (first.isEmpty() ? "" : ": " + first);
  }
}
