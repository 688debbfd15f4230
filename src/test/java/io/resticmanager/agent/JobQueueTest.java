package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link JobQueue} with a fake restic that waits for a "go" file, so the test controls when a job ends. */
class JobQueueTest {
  @TempDir Path dir;
  private Outbox outbox;
  private JobQueue jobs;
  private Path go;
  private final List<Outbox.Entry> stored = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    go = dir.resolve("go");
    Path restic = dir.resolve("restic");
    // Records that it runs (one file per concurrent run would show overlap), then waits for "go".
    Files.writeString(restic, "#!/bin/sh\n"
        + "echo \"$*\" >> '" + dir.resolve("runs") + "'\n"
        + "if [ -e '" + dir.resolve("running") + "' ]; then echo overlap > '" + dir.resolve("overlap") + "'; fi\n"
        + "touch '" + dir.resolve("running") + "'\n"
        + "while [ ! -e '" + go + "' ]; do sleep 0.05; done\n"
        + "rm -f '" + dir.resolve("running") + "'\n");
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    ResticRunner runner = new ResticRunner(restic.toString(), Map.of(), List.of(dir.toString()), ForgetPolicy.NONE,
        k -> Duration.ofMinutes(5), Clock.systemUTC());
    outbox = Outbox.open(dir.resolve("outbox"));
    jobs = new JobQueue(runner, outbox, Clock.systemUTC(), new JobQueue.Events() {
      @Override
      public void stored(Outbox.Entry entry) {
        stored.add(entry);
      }

      @Override
      public void progress(Frame.JobProgress progress) {}

      @Override
      public void unstored(Frame.FromAgent frame) {
        fail("the outbox failed");
      }
    });
    jobs.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    Files.writeString(go, "");
    jobs.close(Duration.ofSeconds(30));
  }

  private static void await(BooleanSupplier c, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  @Test
  void jobsRunOneAtATimeInSubmissionOrderWithEveryEventStoredBeforeItIsAnnounced() throws Exception {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    assertTrue(jobs.submit(a, JobKind.BACKUP, JobQueue.Origin.SCHEDULE));
    assertTrue(jobs.submit(b, JobKind.CHECK, JobQueue.Origin.SERVER));
    await(() -> stored.size() == 1, "job a started");
    assertEquals(2, jobs.depth());
    Files.writeString(go, "");
    assertTrue(jobs.awaitIdle(Duration.ofSeconds(30)));

    assertFalse(Files.exists(dir.resolve("overlap")), "two restic processes ran at once");
    List<Frame> events = stored.stream().map(e -> (Frame) e.frame()).toList();
    assertEquals(4, events.size());
    assertEquals(a, assertInstanceOf(JobStarted.class, events.get(0)).jobId());
    assertEquals(a, assertInstanceOf(JobFinished.class, events.get(1)).jobId());
    assertEquals(b, assertInstanceOf(JobStarted.class, events.get(2)).jobId());
    assertEquals(b, assertInstanceOf(JobFinished.class, events.get(3)).jobId());
    assertEquals(4, outbox.size(), "announced events are on disk");
  }

  @Test
  void aScheduledKindAlreadyQueuedOrRunningIsNotQueuedAgainButAServerCommandIs() {
    assertTrue(jobs.submit(UUID.randomUUID(), JobKind.BACKUP, JobQueue.Origin.SCHEDULE));
    await(() -> stored.size() == 1, "the first backup started");
    assertFalse(jobs.submit(UUID.randomUUID(), JobKind.BACKUP, JobQueue.Origin.SCHEDULE), "running");
    assertTrue(jobs.submit(UUID.randomUUID(), JobKind.CHECK, JobQueue.Origin.SCHEDULE));
    assertFalse(jobs.submit(UUID.randomUUID(), JobKind.CHECK, JobQueue.Origin.SCHEDULE), "queued");
    assertTrue(jobs.submit(UUID.randomUUID(), JobKind.BACKUP, JobQueue.Origin.SERVER));
    assertEquals(3, jobs.depth());
  }

  @Test
  void aJobIdIsRunOnlyOnce() {
    UUID id = UUID.randomUUID();
    assertTrue(jobs.submit(id, JobKind.CHECK, JobQueue.Origin.SERVER));
    assertFalse(jobs.submit(id, JobKind.CHECK, JobQueue.Origin.SERVER));
  }

  @Test
  void closingCancelsTheRunningJobAndReportsEveryQueuedOneCancelledWithoutRunningIt() throws IOException {
    UUID running = UUID.randomUUID();
    UUID check = UUID.randomUUID();
    UUID restore = UUID.randomUUID();
    jobs.submit(running, JobKind.BACKUP, JobQueue.Origin.SCHEDULE);
    jobs.submit(check, JobKind.CHECK, JobQueue.Origin.SERVER);
    jobs.submit(restore, JobKind.RESTORE, Optional.of(new RestoreSpec("latest", "/t", List.of())),
        JobQueue.Origin.SERVER);
    await(() -> stored.size() == 1 && Files.exists(dir.resolve("running")), "the backup runs");

    jobs.close(Duration.ofSeconds(30));

    Map<UUID, List<Frame>> byJob = outbox.list().stream().map(e -> (Frame) e.frame())
        .collect(Collectors.groupingBy(JobQueueTest::jobId, LinkedHashMap::new, Collectors.toList()));
    assertEquals(List.of(running, check, restore), List.copyOf(byJob.keySet()));
    assertEquals(JobStatus.CANCELLED, end(byJob.get(running)).status());
    for (UUID queued : List.of(check, restore)) {
      JobFinished end = end(byJob.get(queued));
      assertEquals(JobStatus.CANCELLED, end.status());
      assertEquals(ResticRunner.NOT_STARTED, end.exitCode());
      assertEquals(Optional.of("cancelled: the agent is stopping; the job did not start"), end.error());
    }
    assertEquals(stored.size(), outbox.size(), "every stored event was announced");
    assertEquals(1, Files.readAllLines(dir.resolve("runs")).size(), "restic ran only for the running job");
  }

  @Test
  void aJobArrivingAfterCloseIsReportedCancelledOnceWithoutRunning() {
    jobs.close(Duration.ofSeconds(30));
    UUID late = UUID.randomUUID();
    assertFalse(jobs.submit(late, JobKind.CHECK, JobQueue.Origin.SERVER), "closed");
    assertFalse(jobs.submit(late, JobKind.CHECK, JobQueue.Origin.SERVER), "repeated");

    List<Frame> events = outbox.list().stream().map(e -> (Frame) e.frame()).toList();
    assertEquals(2, events.size(), events.toString());
    assertEquals(new JobStarted(late, JobKind.CHECK, ((JobStarted) events.get(0)).startedAt()), events.get(0));
    JobFinished end = end(events);
    assertEquals(late, end.jobId());
    assertEquals(JobStatus.CANCELLED, end.status());
    assertFalse(Files.exists(dir.resolve("runs")), "restic never ran");
  }

  /** The two events of one job: started, then finished. */
  private static JobFinished end(List<Frame> events) {
    assertEquals(2, events.size(), events.toString());
    assertInstanceOf(JobStarted.class, events.get(0));
    return assertInstanceOf(JobFinished.class, events.get(1));
  }

  private static UUID jobId(Frame f) {
    return f instanceof JobStarted s ? s.jobId() : ((JobFinished) f).jobId();
  }
}
