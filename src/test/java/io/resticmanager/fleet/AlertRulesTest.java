package io.resticmanager.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.store.AlertChange;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The alert rules of CONTRACT §6 as pure functions: every job kind × status, the deadlines, the messages. */
class AlertRulesTest {

  @ParameterizedTest(name = "{0} {1} raises [{2}] and resolves [{3}]")
  @CsvSource(delimiter = '|', value = {
      "BACKUP  | SUCCEEDED |                | BACKUP_FAILED BACKUP_PARTIAL BACKUP_STALE",
      "BACKUP  | WARNING   | BACKUP_PARTIAL | BACKUP_STALE",
      "BACKUP  | FAILED    | BACKUP_FAILED |",
      "BACKUP  | CANCELLED | BACKUP_FAILED |",
      "FORGET  | SUCCEEDED |               | FORGET_FAILED",
      "FORGET  | WARNING   |               |",
      "FORGET  | FAILED    | FORGET_FAILED |",
      "FORGET  | CANCELLED | FORGET_FAILED |",
      "PRUNE   | SUCCEEDED |               | PRUNE_FAILED",
      "PRUNE   | WARNING   |               |",
      "PRUNE   | FAILED    | PRUNE_FAILED  |",
      "PRUNE   | CANCELLED | PRUNE_FAILED  |",
      "CHECK   | SUCCEEDED |               | CHECK_FAILED",
      "CHECK   | WARNING   |               |",
      "CHECK   | FAILED    | CHECK_FAILED  |",
      "CHECK   | CANCELLED | CHECK_FAILED  |",
      "RESTORE | SUCCEEDED |               |",
      "RESTORE | WARNING   |               |",
      "RESTORE | FAILED    |               |",
      "RESTORE | CANCELLED |               |"})
  void aFinishedJobRaisesAndResolvesItsKindsAlert(JobKind kind, JobStatus status, String raises, String resolves) {
    AlertChange change = AlertRules.onJobFinished("web-1", kind, status, 1, null);
    assertEquals(kinds(raises), change.raise().stream().map(AlertChange.Raise::kind).toList());
    assertEquals(Set.copyOf(kinds(resolves)), change.resolve());
  }

  @Test
  void eachKindHasTheContractsSeverity() {
    assertEquals(Severity.WARNING, AlertKind.BACKUP_FAILED.severity());
    assertEquals(Severity.WARNING, AlertKind.FORGET_FAILED.severity());
    assertEquals(Severity.CRITICAL, AlertKind.PRUNE_FAILED.severity());
    assertEquals(Severity.CRITICAL, AlertKind.CHECK_FAILED.severity());
    assertEquals(Severity.WARNING, AlertKind.AGENT_OFFLINE.severity());
    assertEquals(Severity.WARNING, AlertKind.BACKUP_PARTIAL.severity());
    assertEquals(Severity.WARNING, AlertKind.BACKUP_STALE.severity());
    assertEquals("backup_partial", AlertKind.BACKUP_PARTIAL.wire());
    for (AlertKind k : AlertKind.values()) assertEquals(k, AlertKind.fromWire(k.wire()).orElseThrow());
    assertEquals("backup_stale", AlertKind.BACKUP_STALE.wire());
    assertTrue(AlertKind.fromWire("BACKUP_STALE").isEmpty());
  }

  @Test
  void aFailureMessageNamesTheHostTheExitCodeAndTheLastLineOfTheError() {
    AlertChange failed = AlertRules.onJobFinished("db-2", JobKind.PRUNE, JobStatus.FAILED, 1,
        "reading index\nFatal: repository is locked\n");
    assertEquals("prune of host db-2 failed (exit code 1): Fatal: repository is locked", failed.raise().get(0).message());
    AlertChange cancelled = AlertRules.onJobFinished("db-2", JobKind.BACKUP, JobStatus.CANCELLED, 130, null);
    assertEquals("backup of host db-2 was cancelled (exit code 130)", cancelled.raise().get(0).message());
    String longError = "x".repeat(500);
    String cut = AlertRules.onJobFinished("h", JobKind.CHECK, JobStatus.FAILED, 1, longError).raise().get(0).message();
    assertTrue(cut.length() < 300 && cut.endsWith("…"), cut);
  }

  @Test
  void aPartialBackupsMessageNamesTheHostTheExitCodeAndTheErrorsLastLine() {
    AlertChange partial = AlertRules.onJobFinished("web-1", JobKind.BACKUP, JobStatus.WARNING, 3,
        "error: open /srv/a: permission denied\nerror: open /srv/b: permission denied\n");
    assertEquals("backup of host web-1 could not read some files (exit code 3): error: open /srv/b: permission denied",
        partial.raise().get(0).message());
    assertEquals("backup of host web-1 could not read some files (exit code 3)",
        AlertRules.onJobFinished("web-1", JobKind.BACKUP, JobStatus.WARNING, 3, null).raise().get(0).message());
  }

  @Test
  void onlyABackupThatSucceededOrWarnedMadeASnapshot() {
    for (JobKind kind : JobKind.values()) {
      for (JobStatus status : JobStatus.values()) {
        boolean expected = kind == JobKind.BACKUP && (status == JobStatus.SUCCEEDED || status == JobStatus.WARNING);
        assertEquals(expected, AlertRules.madeSnapshot(kind, status), kind + " " + status);
      }
    }
  }

  @Test
  void offlineAndStaleAreJudgedInclusiveOfTheDeadline() {
    Duration d = Duration.ofSeconds(90);
    assertFalse(AlertRules.isOffline(1_089_999, 1_000_000, d));
    assertTrue(AlertRules.isOffline(1_090_000, 1_000_000, d));
    Duration max = Duration.ofHours(26);
    assertFalse(AlertRules.isBackupStale(max.toMillis() - 1, 0, max));
    assertTrue(AlertRules.isBackupStale(max.toMillis(), 0, max));
  }

  @Test
  void deadlineMessagesShowTheConfiguredDurationInAWholeUnit() {
    assertEquals("agent of host a has sent nothing for 90 s", AlertRules.offlineMessage("a", Duration.ofSeconds(90)));
    assertEquals("agent of host a has sent nothing for 1500 ms", AlertRules.offlineMessage("a", Duration.ofMillis(1500)));
    assertEquals("agent of host a has sent nothing for 5 min", AlertRules.offlineMessage("a", Duration.ofMinutes(5)));
    assertEquals("host a has had no backup that made a snapshot for 26 h",
        AlertRules.staleMessage("a", Duration.ofHours(26), false));
    assertEquals("host a has had no backup that made a snapshot since enrolment, 2 s ago",
        AlertRules.staleMessage("a", Duration.ofSeconds(2), true));
  }

  private static List<AlertKind> kinds(String s) {
    if (s == null || s.isBlank()) return List.of();
    return java.util.Arrays.stream(s.trim().split("\\s+")).map(AlertKind::valueOf).toList();
  }
}
