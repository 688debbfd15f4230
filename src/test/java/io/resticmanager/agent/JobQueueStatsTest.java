package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.support.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When {@link JobQueue} collects repository statistics: at start, after the jobs that change the
 * repository, at least every interval, on the lane between jobs; and what reaches its events. A fake
 * restic logs every call, so the order of jobs and collections is exact.
 */
class JobQueueStatsTest {
  @TempDir Path dir;
  private JobQueue jobs;
  private final List<Frame.RepositoryStats> collected = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    if (jobs != null) jobs.close(Duration.ofSeconds(30));
  }

  /**
   * Backups succeed once the file {@code go} exists, forgets warn (exit 3), checks and prunes fail;
   * {@code snapshots} runs {@code snapshotsBody}.
   */
  private JobQueue queue(Duration statsInterval, String snapshotsBody) throws IOException {
    Path restic = dir.resolve("restic");
    Path calls = dir.resolve("calls");
    Files.writeString(restic, "#!/bin/sh\n"
        + "case \"$*\" in\n"
        + "  *snapshots*) echo snapshots >> '" + calls + "'; " + snapshotsBody + " ;;\n"
        + "  *stats*) echo '{\"total_size\":4096}' ;;\n"
        + "  *backup*) while [ ! -e '" + go() + "' ]; do sleep 0.02; done; echo backup >> '" + calls + "' ;;\n"
        + "  *forget*) echo forget >> '" + calls + "'; exit 3 ;;\n"
        + "  *) echo other >> '" + calls + "'; exit 1 ;;\n"
        + "esac\n");
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    ResticRunner runner = new ResticRunner(restic.toString(), Map.of(), List.of(dir.toString()), ForgetPolicy.NONE,
        k -> Duration.ofMinutes(1), Clock.systemUTC());
    jobs = new JobQueue(runner, Outbox.open(dir.resolve("outbox")), Clock.systemUTC(), new JobQueue.Events() {
      @Override
      public void stored(Outbox.Entry entry) {}

      @Override
      public void progress(Frame.JobProgress progress) {}

      @Override
      public void unstored(Frame.FromAgent frame) {}

      @Override
      public void repositoryStats(Frame.RepositoryStats stats) {
        collected.add(stats);
      }
    }, statsInterval);
    jobs.start();
    return jobs;
  }

  private Path go() {
    return dir.resolve("go");
  }

  private List<String> calls() throws IOException {
    return Files.readAllLines(dir.resolve("calls"));
  }

  private void run(JobKind kind) throws InterruptedException {
    assertTrue(jobs.submit(UUID.randomUUID(), kind, JobQueue.Origin.SERVER));
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));
  }

  @Test
  void statisticsAreCollectedAtStartAndAfterEveryBackupForgetAndPruneThatDidNotFail() throws Exception {
    Files.writeString(go(), "");
    queue(Duration.ofHours(1), "echo '[{\"id\":\"a\"},{\"id\":\"b\"}]'");
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));
    assertEquals(List.of("snapshots"), calls(), "collected at start");
    assertEquals(1, collected.size());
    assertEquals(2, collected.get(0).snapshotCount());
    assertEquals(4096, collected.get(0).totalSizeBytes());

    run(JobKind.BACKUP);
    run(JobKind.CHECK);
    run(JobKind.FORGET);
    run(JobKind.PRUNE);
    assertEquals(List.of("snapshots", "backup", "snapshots", "other", "forget", "snapshots", "other"), calls(),
        "after the backup and the forget that warned; not after a check, nor after a prune that failed");
    assertEquals(3, collected.size());
  }

  @Test
  void jobsQueuedBehindAJobThatChangedTheRepositoryRunFirstAndOneCollectionFollows() throws Exception {
    queue(Duration.ofHours(1), "echo '[]'");
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));
    // The first backup waits for "go" while the others queue behind it.
    for (JobKind kind : List.of(JobKind.BACKUP, JobKind.BACKUP, JobKind.FORGET)) {
      assertTrue(jobs.submit(UUID.randomUUID(), kind, JobQueue.Origin.SERVER));
    }
    Files.writeString(go(), "");
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));
    assertEquals(List.of("snapshots", "backup", "backup", "forget", "snapshots"), calls());
    assertEquals(2, collected.size());
  }

  @Test
  void statisticsAreCollectedAgainEveryIntervalWhileTheLaneIsIdle() throws Exception {
    queue(Duration.ofMillis(300), "echo '[]'");
    Await.until(Duration.ofSeconds(20), () -> collected.size() >= 4);
    assertTrue(calls().stream().allMatch("snapshots"::equals), calls().toString());
  }

  @Test
  void aFailedCollectionReachesNoOneAndIsTriedAgainAfterTheNextBackup() throws Exception {
    Files.writeString(go(), "");
    queue(Duration.ofHours(1), "echo 'Fatal: unable to open config file' >&2; exit 1");
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));
    run(JobKind.BACKUP);
    assertEquals(List.of("snapshots", "backup", "snapshots"), calls());
    assertEquals(List.of(), collected, "a failed collection is nothing, not zeros");
  }

  @Test
  void aLaneWithoutAnIntervalCollectsNothing() throws Exception {
    Files.writeString(go(), "");
    queue(null, "echo '[]'");
    run(JobKind.BACKUP);
    assertEquals(List.of("backup"), calls());
    assertEquals(List.of(), collected);
  }
}
