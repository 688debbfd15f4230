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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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

  /** The first page of a host's jobs ({@code hostId} null: every host's). */
  List<JobRow> jobsOf(String hostId, int limit) {
    return await(jobs.list(new JobStore.Query(Optional.ofNullable(hostId), Optional.empty(), Optional.empty(), limit,
        Optional.empty()))).rows();
  }

  List<AlertRow> alertsOf(AlertStore.Filter filter, int limit) {
    return await(alerts.list(filter, limit, Optional.empty())).rows();
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
    JobRow row = jobsOf(a, 10).get(0);
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
    JobRow row = jobsOf(null, 10).get(0);
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
    assertEquals(1, alertsOf(AlertStore.Filter.OPEN, 10).size());
    JobStore.Recorded ok = (JobStore.Recorded) await(jobs.finish(a,
        new JobStore.Finish(j2, JobStatus.SUCCEEDED, T0 + 2, 0, null, null, 1L),
        k -> new AlertChange(List.of(), Set.of(AlertKind.BACKUP_FAILED, AlertKind.BACKUP_STALE)), T0 + 2));
    assertEquals(1, ok.alerts().resolved().size());
    assertEquals(0, alertsOf(AlertStore.Filter.OPEN, 10).size());
    AlertRow resolved = alertsOf(AlertStore.Filter.RESOLVED, 10).get(0);
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
    assertEquals(0, jobsOf(null, 10).size());
    assertEquals(0, alertsOf(AlertStore.Filter.ALL, 10).size());
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
    assertEquals(2000, jobsOf(a, 5000).size());
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
    assertEquals(200, jobsOf(a, 500).size());
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
  @Test
  void jobPagesReachEveryJobOnceNewestFirstWithTiesAndFilters() {
    String a = enroll("a");
    String b = enroll("b");
    JobKind[] kinds = JobKind.values();
    JobStatus[] statuses = JobStatus.values();
    List<CompletableFuture<?>> writes = new ArrayList<>();
    Map<String, String> statusOf = new HashMap<>();
    for (int i = 0; i < 1_234; i++) {
      String id = UUID.randomUUID().toString();
      // Seven jobs share each start time, so pages end inside a run of equal times.
      long start = T0 + (i / 7) * 1_000L;
      JobKind kind = kinds[i % kinds.length];
      writes.add(jobs.start(a, id, kind, start).toCompletableFuture());
      if (i % 11 == 0) {
        statusOf.put(id, "running");
        continue;
      }
      JobStatus st = statuses[i % statuses.length];
      statusOf.put(id, kind.wire() + "/" + st.wire());
      writes.add(jobs.finish(a, new JobStore.Finish(id, st, start + 500, 0, null, null, null), k -> AlertChange.NONE, T0)
          .toCompletableFuture());
    }
    writes.add(jobs.start(b, UUID.randomUUID().toString(), JobKind.BACKUP, T0).toCompletableFuture());
    writes.forEach(CompletableFuture::join);

    List<JobRow> all = walk(Optional.of(a), Optional.empty(), Optional.empty(), 100);
    assertEquals(statusOf.keySet(), ids(all), "every job of a on some page");
    assertEquals(all.size(), ids(all).size(), "no job on two pages");
    for (int i = 1; i < all.size(); i++) {
      assertTrue(all.get(i - 1).startedAt() >= all.get(i).startedAt(), "newest first at " + i);
    }

    List<JobRow> failedChecks = walk(Optional.of(a), Optional.of(JobKind.CHECK), Optional.of("failed"), 7);
    Set<String> expected = new HashSet<>();
    statusOf.forEach((id, v) -> {
      if (v.equals("check/failed")) expected.add(id);
    });
    assertFalse(expected.isEmpty());
    assertEquals(expected, ids(failedChecks));

    List<JobRow> running = walk(Optional.empty(), Optional.empty(), Optional.of("running"), 50);
    assertEquals(statusOf.values().stream().filter("running"::equals).count() + 1, running.size(),
        "every unfinished job of both hosts");
    assertTrue(running.stream().allMatch(j -> j.status() == null));
  }

  private List<JobRow> walk(Optional<String> host, Optional<JobKind> kind, Optional<String> status, int limit) {
    List<JobRow> out = new ArrayList<>();
    Optional<Page.Cursor> before = Optional.empty();
    for (int pages = 0; pages < 10_000; pages++) {
      Page<JobRow> page = await(jobs.list(new JobStore.Query(host, kind, status, limit, before)));
      assertTrue(page.rows().size() <= limit);
      out.addAll(page.rows());
      if (page.next().isEmpty()) return out;
      assertEquals(limit, page.rows().size(), "only a full page has a next one");
      before = Optional.of(Page.Cursor.decode(page.next().get().encode()).orElseThrow());
    }
    throw new AssertionError("paging does not end");
  }

  private static Set<String> ids(List<JobRow> rows) {
    Set<String> out = new HashSet<>();
    rows.forEach(r -> out.add(r.id()));
    return out;
  }

  @Test
  void alertPagesReachEveryAlertOnceByStatus() {
    String a = enroll("a");
    // Raise and resolve 120 backup_failed alerts (eight per raising time) and leave one open.
    for (int i = 0; i < 121; i++) {
      long at = T0 + (i / 8) * 1_000L;
      await(alerts.apply(a, new AlertChange(List.of(new AlertChange.Raise(AlertKind.BACKUP_FAILED, "failed " + i)),
          Set.of()), at));
      if (i < 120) await(alerts.apply(a, new AlertChange(List.of(), Set.of(AlertKind.BACKUP_FAILED)), at));
    }
    for (AlertStore.Filter f : AlertStore.Filter.values()) {
      List<AlertRow> rows = new ArrayList<>();
      Optional<Page.Cursor> before = Optional.empty();
      do {
        Page<AlertRow> page = await(alerts.list(f, 9, before));
        rows.addAll(page.rows());
        before = page.next();
      } while (before.isPresent());
      Set<String> distinct = new HashSet<>();
      rows.forEach(r -> distinct.add(r.id()));
      int expected = switch (f) {
        case OPEN -> 1;
        case RESOLVED -> 120;
        case ALL -> 121;
      };
      assertEquals(expected, rows.size(), f + ": every alert");
      assertEquals(expected, distinct.size(), f + ": none twice");
      for (int i = 1; i < rows.size(); i++) assertTrue(rows.get(i - 1).raisedAt() >= rows.get(i).raisedAt());
    }
  }

  @Test
  void cursorsThisServerDidNotMakeAreRefused() {
    assertEquals(Optional.of(new Page.Cursor(5, "abc-1")), Page.Cursor.decode(new Page.Cursor(5, "abc-1").encode()));
    for (String bad : List.of("", "x", "!!!", "MTIz", "LTE6YQ", "YTpi", "NTpiJzsgRFJPUCBUQUJMRSBqb2JzOy0t")) {
      assertEquals(Optional.empty(), Page.Cursor.decode(bad), bad);
    }
  }

  @Test
  void retentionDeletesOldFinishedJobsButNeverRunningOnesNorTheNewestOfEachKindAndStatus() {
    String a = enroll("a");
    String b = enroll("b");
    long cutoff = T0 + 1_000_000;
    Set<String> kept = new HashSet<>();
    List<String> oldBackups = new ArrayList<>();
    for (int i = 0; i < 30; i++) oldBackups.add(job(a, JobKind.BACKUP, JobStatus.SUCCEEDED, T0 + i * 1_000L));
    List<String> oldChecks = new ArrayList<>();
    for (int i = 0; i < 5; i++) oldChecks.add(job(a, JobKind.CHECK, JobStatus.FAILED, T0 + i * 1_000L));
    kept.add(oldChecks.get(4)); // the last failed check: a's check alert and metrics rest on it
    String running = UUID.randomUUID().toString();
    await(jobs.start(a, running, JobKind.PRUNE, T0));
    kept.add(running);
    kept.add(job(a, JobKind.BACKUP, JobStatus.SUCCEEDED, cutoff + 5_000));
    kept.add(job(a, JobKind.BACKUP, JobStatus.WARNING, cutoff + 6_000));
    kept.add(job(a, JobKind.CHECK, JobStatus.SUCCEEDED, cutoff + 7_000));
    // b has only old jobs: the newest of each kind and status stays.
    for (int i = 0; i < 12; i++) job(b, JobKind.BACKUP, i % 2 == 0 ? JobStatus.SUCCEEDED : JobStatus.FAILED, T0 + i * 1_000L);
    List<JobRow> bBefore = jobsOf(b, 100);
    kept.add(bBefore.get(0).id());
    kept.add(bBefore.get(1).id());
    JobStore.Latest latestBefore = db.readNow(JobStore::loadLatest);
    long snapshotA = db.readNow(c -> JobStore.lastSnapshot(c, a));
    long snapshotB = db.readNow(c -> JobStore.lastSnapshot(c, b));

    int examined = 0;
    int deleted = 0;
    int steps = 0;
    Optional<Page.Cursor> after = Optional.empty();
    do {
      JobStore.Swept s = await(jobs.deleteFinishedBefore(cutoff, after, 4));
      assertTrue(s.examined() <= 4);
      examined += s.examined();
      deleted += s.deleted();
      after = s.next();
      steps++;
    } while (after.isPresent());

    Set<String> left = new HashSet<>(ids(jobsOf(null, 1000)));
    assertEquals(kept, left);
    assertEquals(30 + 5 + 12, examined, "every old finished job looked at once");
    assertEquals(30 + 5 + 12 - 1 - 2, deleted);
    assertTrue(steps >= (30 + 5 + 12) / 4, "in small steps: " + steps);
    assertEquals(latestBefore, db.readNow(JobStore::loadLatest), "what the entities read at start is unchanged");
    assertEquals(snapshotA, (long) db.<Long>readNow(c -> JobStore.lastSnapshot(c, a)));
    assertEquals(snapshotB, (long) db.<Long>readNow(c -> JobStore.lastSnapshot(c, b)));
    assertEquals(0, await(jobs.deleteFinishedBefore(cutoff, Optional.empty(), 100)).deleted(), "a second sweep: nothing");
  }

  /** A finished job, started 10 s before {@code finishedAt}. */
  private String job(String host, JobKind kind, JobStatus status, long finishedAt) {
    String id = UUID.randomUUID().toString();
    await(jobs.start(host, id, kind, finishedAt - 10_000));
    await(jobs.finish(host, new JobStore.Finish(id, status, finishedAt, 0, null, null, null), k -> AlertChange.NONE,
        finishedAt));
    return id;
  }
}
