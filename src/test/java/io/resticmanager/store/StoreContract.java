package io.resticmanager.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.support.TestDatabases;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store's behaviour, run against each real database by a subclass. */
abstract class StoreContract {
  static final long T0 = 1_800_000_000_000L;

  Settings.Db settings;
  Database db;
  HostStore hosts;
  JobStore jobs;
  AlertStore alerts;

  abstract Settings.Db newDatabase() throws Exception;

  void dropDatabase() {}

  @BeforeEach
  void open() throws Exception {
    settings = newDatabase();
    db = TestDatabases.open(settings);
    hosts = new HostStore(db);
    jobs = new JobStore(db);
    alerts = new AlertStore(db);
  }

  @AfterEach
  void close() {
    db.close();
    dropDatabase();
  }

  static <T> T await(CompletionStage<T> s) {
    try {
      return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  String enroll(String name) {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 3_600_000));
    HostStore.EnrollOutcome o = await(hosts.enroll(t.token(), name, UUID.randomUUID().toString(), T0));
    return assertInstanceOf(HostStore.Enrolled.class, o).host().id();
  }

  @Test
  void enrollmentTokenIsUsableOnce() {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 3_600_000));
    assertInstanceOf(HostStore.Enrolled.class, await(hosts.enroll(t.token(), "a", UUID.randomUUID().toString(), T0)));
    assertInstanceOf(HostStore.InvalidToken.class, await(hosts.enroll(t.token(), "b", UUID.randomUUID().toString(), T0)));
  }

  @Test
  void expiredAndUnknownEnrollmentTokensAreRefused() {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 1000));
    assertInstanceOf(HostStore.InvalidToken.class,
        await(hosts.enroll(t.token(), "a", UUID.randomUUID().toString(), T0 + 1000)));
    assertInstanceOf(HostStore.InvalidToken.class,
        await(hosts.enroll("no-such-token", "a", UUID.randomUUID().toString(), T0)));
  }

  @Test
  void duplicateHostNameIsRefusedAndLeavesTheTokenUnused() {
    enroll("web-1");
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 3_600_000));
    assertInstanceOf(HostStore.DuplicateHost.class,
        await(hosts.enroll(t.token(), "web-1", UUID.randomUUID().toString(), T0)));
    assertInstanceOf(HostStore.Enrolled.class,
        await(hosts.enroll(t.token(), "web-2", UUID.randomUUID().toString(), T0)));
  }

  @Test
  void agentTokenFindsItsHostAndIsStoredOnlyAsAHash() throws Exception {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 3_600_000));
    HostStore.Enrolled e = (HostStore.Enrolled) await(hosts.enroll(t.token(), "a", "host-a", T0));
    assertEquals("host-a", await(hosts.hostOfAgentToken(e.agentToken())).orElseThrow());
    assertTrue(await(hosts.hostOfAgentToken(e.agentToken() + "x")).isEmpty());
    for (String plain : List.of(e.agentToken(), t.token())) {
      int found = db.readNow(c -> {
        int n = 0;
        for (String sql : List.of("SELECT COUNT(*) FROM agent_tokens WHERE token_hash = ?",
            "SELECT COUNT(*) FROM enrollment_tokens WHERE token_hash = ?")) {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, plain);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              n += rs.getInt(1);
            }
          }
        }
        return n;
      });
      assertEquals(0, found, "a plain token is in the database");
    }
  }

  @Test
  void repeatedStartChangesNothingAndAnotherHostsIdConflicts() {
    String a = enroll("a");
    String b = enroll("b");
    String job = UUID.randomUUID().toString();
    assertEquals(JobStore.StartOutcome.STORED, await(jobs.start(a, job, JobKind.BACKUP, T0)));
    assertEquals(JobStore.StartOutcome.DUPLICATE, await(jobs.start(a, job, JobKind.BACKUP, T0 + 5)));
    assertEquals(JobStore.StartOutcome.CONFLICT, await(jobs.start(b, job, JobKind.BACKUP, T0)));
    JobRow row = await(jobs.list(a, 10)).get(0);
    assertEquals(T0, row.startedAt());
    assertEquals(null, row.status());
  }

  @Test
  void repeatedFinishIsRecordedOnce() {
    String a = enroll("a");
    String job = UUID.randomUUID().toString();
    await(jobs.start(a, job, JobKind.BACKUP, T0));
    JobStore.Finish f = new JobStore.Finish(job, JobStatus.SUCCEEDED, T0 + 90_500, 0, null, "{\"data_added\":7}", 7L);
    JobStore.Recorded r = assertInstanceOf(JobStore.Recorded.class,
        await(jobs.finish(a, f, k -> AlertChange.NONE, T0)));
    assertEquals(90.5, r.durationSeconds(), 1e-9);
    assertEquals(JobKind.BACKUP, r.kind());
    assertInstanceOf(JobStore.Duplicate.class, await(jobs.finish(a, f, k -> AlertChange.NONE, T0)));
    JobRow row = await(jobs.list(null, 10)).get(0);
    assertEquals(JobStatus.SUCCEEDED, row.status());
    assertEquals(90.5, row.durationSeconds(), 1e-9);
    assertEquals("{\"data_added\":7}", row.summaryJson());
  }

  @Test
  void finishBeforeStartIsClampedToZero() {
    String a = enroll("a");
    String job = UUID.randomUUID().toString();
    await(jobs.start(a, job, JobKind.CHECK, T0));
    JobStore.Recorded r = (JobStore.Recorded) await(jobs.finish(a,
        new JobStore.Finish(job, JobStatus.FAILED, T0 - 5000, 1, "boom", null, null), k -> AlertChange.NONE, T0));
    assertEquals(0.0, r.durationSeconds());
  }

  @Test
  void finishOfAnUnknownOrForeignJobIsUnknown() {
    String a = enroll("a");
    String b = enroll("b");
    String job = UUID.randomUUID().toString();
    JobStore.Finish f = new JobStore.Finish(job, JobStatus.SUCCEEDED, T0, 0, null, null, null);
    assertInstanceOf(JobStore.Unknown.class, await(jobs.finish(a, f, k -> AlertChange.NONE, T0)));
    await(jobs.start(b, job, JobKind.BACKUP, T0));
    assertInstanceOf(JobStore.Unknown.class, await(jobs.finish(a, f, k -> AlertChange.NONE, T0)));
  }

  @Test
  void finishRaisesAndResolvesAlertsInTheSameTransaction() {
    String a = enroll("a");
    String j1 = UUID.randomUUID().toString();
    String j2 = UUID.randomUUID().toString();
    await(jobs.start(a, j1, JobKind.BACKUP, T0));
    await(jobs.start(a, j2, JobKind.BACKUP, T0));
    JobStore.Recorded failed = (JobStore.Recorded) await(jobs.finish(a,
        new JobStore.Finish(j1, JobStatus.FAILED, T0 + 1, 1, "x", null, null),
        k -> new AlertChange(List.of(new AlertChange.Raise(AlertKind.BACKUP_FAILED, "backup failed")), Set.of()),
        T0 + 1));
    assertEquals(1, failed.alerts().raised().size());
    assertEquals(1, await(alerts.list(AlertStore.Filter.OPEN, 10)).size());
    JobStore.Recorded ok = (JobStore.Recorded) await(jobs.finish(a,
        new JobStore.Finish(j2, JobStatus.SUCCEEDED, T0 + 2, 0, null, null, 1L),
        k -> new AlertChange(List.of(), Set.of(AlertKind.BACKUP_FAILED, AlertKind.BACKUP_STALE)), T0 + 2));
    assertEquals(1, ok.alerts().resolved().size());
    assertEquals(0, await(alerts.list(AlertStore.Filter.OPEN, 10)).size());
    AlertRow resolved = await(alerts.list(AlertStore.Filter.RESOLVED, 10)).get(0);
    assertEquals(T0 + 2, resolved.resolvedAt());
  }

  @Test
  void atMostOneOpenAlertPerHostAndKind() {
    String a = enroll("a");
    AlertChange raise = new AlertChange(List.of(new AlertChange.Raise(AlertKind.AGENT_OFFLINE, "offline")), Set.of());
    assertEquals(1, await(alerts.apply(a, raise, T0)).raised().size());
    assertEquals(0, await(alerts.apply(a, raise, T0 + 1)).raised().size());
    assertThrows(SQLException.class, () -> {
      try {
        db.readNow(c -> {
          try (PreparedStatement ps = c.prepareStatement(
              "INSERT INTO alerts (id, host_id, kind, severity, status, raised_at, message)"
                  + " VALUES ('x', ?, 'agent_offline', 'warning', 'open', 1, 'dup')")) {
            ps.setString(1, a);
            return ps.executeUpdate();
          }
        });
      } catch (StoreException e) {
        throw (SQLException) e.getCause();
      }
    });
  }

  @Test
  void acknowledgedAlertStaysOpen() {
    String a = enroll("a");
    AlertRow raised = await(alerts.apply(a,
        new AlertChange(List.of(new AlertChange.Raise(AlertKind.CHECK_FAILED, "check failed")), Set.of()), T0))
        .raised().get(0);
    AlertRow acked = await(alerts.acknowledge(raised.id(), T0 + 10)).orElseThrow();
    assertTrue(acked.open());
    assertEquals(T0 + 10, acked.acknowledgedAt());
    assertTrue(await(alerts.acknowledge("nope", T0)).isEmpty());
  }

  @Test
  void latestPerHostAndKindIsLoadedForTheFleet() {
    String a = enroll("a");
    finishJob(a, JobKind.BACKUP, JobStatus.SUCCEEDED, T0 + 10, 100L);
    finishJob(a, JobKind.BACKUP, JobStatus.FAILED, T0 + 20, null);
    finishJob(a, JobKind.CHECK, JobStatus.SUCCEEDED, T0 + 30, null);
    JobStore.Latest latest = db.readNow(JobStore::loadLatest);
    assertEquals(T0 + 20, latest.lastJob().get(a).get(JobKind.BACKUP));
    assertEquals(T0 + 10, latest.lastSuccess().get(a).get(JobKind.BACKUP));
    assertEquals(T0 + 30, latest.lastSuccess().get(a).get(JobKind.CHECK));
    assertEquals(100L, latest.lastBackupAdded().get(a));
  }

  @Test
  void theLastSnapshotIsTheLastBackupThatSucceededOrWarned() {
    String a = enroll("a");
    String b = enroll("b");
    finishJob(a, JobKind.BACKUP, JobStatus.SUCCEEDED, T0 + 10, null);
    finishJob(a, JobKind.BACKUP, JobStatus.WARNING, T0 + 20, null);
    finishJob(a, JobKind.BACKUP, JobStatus.FAILED, T0 + 30, null);
    finishJob(a, JobKind.BACKUP, JobStatus.CANCELLED, T0 + 40, null);
    finishJob(a, JobKind.CHECK, JobStatus.SUCCEEDED, T0 + 50, null);
    finishJob(b, JobKind.BACKUP, JobStatus.FAILED, T0 + 60, null);
    assertEquals(T0 + 20, await(hosts.state(a)).orElseThrow().lastSnapshot());
    assertEquals(T0 + 10, await(hosts.state(a)).orElseThrow().lastSuccess().get(JobKind.BACKUP));
    assertEquals(0, await(hosts.state(b)).orElseThrow().lastSnapshot());
  }

  @Test
  void theLatestRepositoryStatsAreKeptPerHostAndLoadedWithIt() {
    String a = enroll("a");
    String b = enroll("b");
    assertEquals(Optional.empty(), await(hosts.state(a)).orElseThrow().repositoryStats());
    RepositoryStatsRow first = new RepositoryStatsRow(T0, 12, 5_000_000_000L, 9_000_000_000L);
    await(hosts.saveRepositoryStats(a, first));
    assertEquals(Optional.of(first), await(hosts.state(a)).orElseThrow().repositoryStats());
    RepositoryStatsRow next = new RepositoryStatsRow(T0 + 60_000, 13, 5_100_000_000L, null);
    await(hosts.saveRepositoryStats(a, next));
    assertEquals(Optional.of(next), await(hosts.state(a)).orElseThrow().repositoryStats());
    assertEquals(Optional.empty(), await(hosts.state(b)).orElseThrow().repositoryStats());

    db.close();
    db = TestDatabases.open(settings);
    hosts = new HostStore(db);
    assertEquals(Optional.of(next), await(hosts.state(a)).orElseThrow().repositoryStats());
  }

  void finishJob(String host, JobKind kind, JobStatus status, long at, Long added) {
    String id = UUID.randomUUID().toString();
    await(jobs.start(host, id, kind, at - 1));
    await(jobs.finish(host, new JobStore.Finish(id, status, at, 0, null, null, added), k -> AlertChange.NONE, at));
  }

  @Test
  void deletingAHostRemovesItsTokensJobsAlertsAndRepositoryStats() {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(T0, 3_600_000));
    HostStore.Enrolled e = (HostStore.Enrolled) await(hosts.enroll(t.token(), "a", "host-a", T0));
    finishJob("host-a", JobKind.BACKUP, JobStatus.FAILED, T0 + 5, null);
    await(alerts.apply("host-a",
        new AlertChange(List.of(new AlertChange.Raise(AlertKind.BACKUP_FAILED, "f")), Set.of()), T0));
    await(hosts.saveRepositoryStats("host-a", new RepositoryStatsRow(T0, 1, 2, null)));
    assertTrue(await(hosts.delete("host-a")));
    assertFalse(await(hosts.delete("host-a")));
    assertEquals(Integer.valueOf(0), db.<Integer>readNow(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM repository_stats");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }));
    assertTrue(await(hosts.hostOfAgentToken(e.agentToken())).isEmpty());
    assertEquals(0, await(jobs.list(null, 10)).size());
    assertEquals(0, await(alerts.list(AlertStore.Filter.ALL, 10)).size());
    assertEquals(0, db.readNow(HostStore::loadAll).size());
  }

  @Test
  void manyConcurrentWritesAllCommit() {
    String a = enroll("a");
    List<CompletableFuture<JobStore.StartOutcome>> fs = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      fs.add(jobs.start(a, UUID.randomUUID().toString(), JobKind.BACKUP, T0 + i).toCompletableFuture());
    }
    for (CompletableFuture<JobStore.StartOutcome> f : fs) assertEquals(JobStore.StartOutcome.STORED, f.join());
    assertEquals(2000, await(jobs.list(a, 5000)).size());
    long[] stats = db.writerStats();
    assertTrue(stats[0] <= stats[1], "commits never exceed writes");
  }

  @Test
  void aFailingWriteDoesNotFailTheOthersInItsBatch() {
    String a = enroll("a");
    List<CompletableFuture<JobStore.StartOutcome>> good = new ArrayList<>();
    List<CompletableFuture<Object>> bad = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      good.add(jobs.start(a, UUID.randomUUID().toString(), JobKind.PRUNE, T0).toCompletableFuture());
      bad.add(db.<Object>write(c -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO hosts (id, name, enrolled_at) VALUES ('x', NULL, 1)")) {
          return ps.executeUpdate();
        }
      }).toCompletableFuture());
    }
    for (CompletableFuture<JobStore.StartOutcome> f : good) assertEquals(JobStore.StartOutcome.STORED, f.join());
    for (CompletableFuture<Object> f : bad) assertThrows(CompletionException.class, f::join);
    assertEquals(200, await(jobs.list(a, 500)).size());
  }

  @Test
  void committedWritesSurviveReopening() {
    String a = enroll("a");
    finishJob(a, JobKind.BACKUP, JobStatus.SUCCEEDED, T0 + 10, 5L);
    db.close();
    db = TestDatabases.open(settings);
    List<HostRow> all = db.readNow(HostStore::loadAll);
    assertEquals(1, all.size());
    assertEquals("a", all.get(0).name());
    assertEquals(5L, db.readNow(JobStore::loadLatest).lastBackupAdded().get(a));
  }

  @Test
  void writesAfterCloseFailClearly() {
    db.close();
    CompletableFuture<Void> f = db.flush().toCompletableFuture();
    CompletionException e = assertThrows(CompletionException.class, f::join);
    assertInstanceOf(StoreClosedException.class, e.getCause());
    db = TestDatabases.open(settings);
  }
}
