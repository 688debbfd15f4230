package io.resticmanager.agent;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one lane of restic jobs: jobs run one at a time, in the order they were submitted, on a
 * single worker thread. For each job it stores {@code job.started}, runs restic through
 * {@link ResticRunner}, stores {@code job.finished} — both in the {@link Outbox} before anyone may send
 * them — and tells {@link Events} (the {@link AgentClient}) that there is something to send, and passes
 * {@code job.progress} on unstored. Fed by {@link JobScheduler} (scheduled jobs) and by the client
 * ({@code command.run}).
 *
 * <p>Never runs two jobs at once, never queues a scheduled kind twice (a backup that overruns its
 * interval does not pile up more backups), never runs the same job id twice, and never forgets a job it
 * took: one that has not started when {@link #close()} is called, or that arrives after it, is stored
 * as started and {@code cancelled} without running restic, so the server hears of every job id it sent.
 *
 * <p>Given a statistics interval, the lane also collects the repository's statistics
 * ({@link ResticRunner#stats}) and hands them to {@link Events#repositoryStats}: at start, after every
 * backup, forget and prune that ended {@code succeeded} or {@code warning} (once the jobs queued behind it
 * have run), and whenever the interval has passed since the last collection. A collection runs between
 * jobs, never beside one.
 */
public final class JobQueue implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobQueue.class);
  /** The longest a statistics run may take (or the interval, when shorter): jobs wait behind it. */
  static final Duration STATS_TIMEOUT = Duration.ofMinutes(10);
  private static final int REMEMBERED_IDS = 1000;

  /**
   * Who is told about stored events and progress; called on the worker thread (and, for jobs that never
   * start, on the thread of {@code submit} or {@code close}), must not block.
   */
  public interface Events {
    /** {@code entry} is on disk and may be sent. */
    void stored(Outbox.Entry entry);

    /** Latest progress of the running job; dropped when it cannot be sent now. */
    void progress(JobProgress progress);

    /** The outbox could not store {@code frame} (disk full?); send it once, unprotected. */
    void unstored(Frame.FromAgent frame);

    /** The repository's latest statistics; not stored. */
    default void repositoryStats(Frame.RepositoryStats stats) {}

    /** Takes every event and does nothing with it: until a client exists to send them, and in tests. */
    Events NONE = new Events() {
      @Override
      public void stored(Outbox.Entry entry) {}

      @Override
      public void progress(JobProgress progress) {}

      @Override
      public void unstored(Frame.FromAgent frame) {}
    };
  }

  /** Why a job was queued; only scheduled jobs are deduplicated by kind. */
  public enum Origin { SCHEDULE, SERVER }

  private record Job(UUID id, JobKind kind, Optional<RestoreSpec> restore, Origin origin) {}

  /** The {@code error} of a job the agent took but never started because it was stopping. */
  private static final String NOT_STARTED_ERROR = "cancelled: the agent is stopping; the job did not start";

  private final ResticRunner runner;
  private final Outbox outbox;
  private final Clock clock;
  private volatile Events events;
  private final Deque<Job> pending = new ArrayDeque<>();
  private final Map<UUID, Boolean> seen = new LinkedHashMap<>(16, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<UUID, Boolean> e) {
      return size() > REMEMBERED_IDS;
    }
  };
  private final Thread worker;
  private Job current;
  private boolean closed;
  /** Null: no repository statistics are collected. Also the time limit of each collection. */
  private final Duration statsInterval;
  /** When the next collection is due, in {@link System#nanoTime()}. */
  private long statsDue = System.nanoTime();
  private boolean collecting;

  /** A lane that collects no repository statistics. */
  public JobQueue(ResticRunner runner, Outbox outbox, Clock clock, Events events) {
    this(runner, outbox, clock, events, null);
  }

  /** A lane that collects repository statistics at least every {@code statsInterval} (null: never). */
  public JobQueue(ResticRunner runner, Outbox outbox, Clock clock, Events events, Duration statsInterval) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.events = Objects.requireNonNull(events, "events");
    this.statsInterval = statsInterval;
    this.worker = new Thread(this::work, "agent-jobs");
    this.worker.setDaemon(true);
  }

  /** Replaces the events listener (wiring order: the client is built after the queue). */
  public void events(Events events) {
    this.events = Objects.requireNonNull(events, "events");
  }

  public void start() {
    worker.start();
  }

  /** {@link #submit(UUID, JobKind, Optional, Origin)} for a kind other than restore. */
  public boolean submit(UUID jobId, JobKind kind, Origin origin) {
    return submit(jobId, kind, Optional.empty(), origin);
  }

  /**
   * Queues a job; returns false (and logs why) when it is not queued: the job id was seen already, a
   * scheduled job of the same kind is queued or running, or the queue is closed — in which case the job
   * is reported cancelled at once. {@code restore} says what a restore job restores.
   */
  public boolean submit(UUID jobId, JobKind kind, Optional<RestoreSpec> restore, Origin origin) {
    Job job = new Job(jobId, kind, restore, origin);
    synchronized (this) {
      if (seen.containsKey(jobId)) {
        log.info("Job [{}] ({}) not queued: already known", jobId, kind.wire());
        return false;
      }
      if (origin == Origin.SCHEDULE && !closed) {
        boolean dup = (current != null && current.kind() == kind)
            || pending.stream().anyMatch(j -> j.kind() == kind);
        if (dup) {
          log.info("Scheduled {} skipped: one is already queued or running", kind.wire());
          return false;
        }
      }
      seen.put(jobId, Boolean.TRUE);
      if (!closed) {
        pending.addLast(job);
        log.info("Job [{}] ({}, from {}) queued; [{}] waiting", jobId, kind.wire(), origin.name().toLowerCase(),
            pending.size());
        notifyAll();
        return true;
      }
    }
    log.info("Job [{}] ({}) not run: the agent is stopping; reporting it cancelled", jobId, kind.wire());
    storeNotStarted(job);
    return false;
  }

  /** Jobs queued and not started, plus the running one. */
  public synchronized int depth() {
    return pending.size() + (current == null ? 0 : 1);
  }

  private void work() {
    while (true) {
      Job job;
      synchronized (this) {
        while (pending.isEmpty() && !closed && !statsDue()) {
          try {
            if (statsInterval == null) wait();
            else TimeUnit.NANOSECONDS.timedWait(this, statsDue - System.nanoTime());
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) return;
        job = pending.pollFirst();
        current = job;
        collecting = job == null;
      }
      try {
        if (job != null) runOne(job);
        else collectStats();
      } catch (RuntimeException e) {
        if (job != null) log.error("Job [{}] ({}) crashed the job lane", job.id(), job.kind().wire(), e);
        else log.error("Collecting repository statistics crashed the job lane", e);
      } finally {
        synchronized (this) {
          current = null;
          collecting = false;
          notifyAll();
        }
      }
    }
  }

  private boolean statsDue() {
    return statsInterval != null && System.nanoTime() - statsDue >= 0;
  }

  private void collectStats() {
    // Bounded well below the interval: the lane runs no job while statistics are being collected.
    Optional<Frame.RepositoryStats> stats = runner.stats(
        statsInterval.compareTo(STATS_TIMEOUT) < 0 ? statsInterval : STATS_TIMEOUT);
    synchronized (this) {
      statsDue = System.nanoTime() + statsInterval.toNanos();
    }
    stats.ifPresent(events::repositoryStats);
  }

  /** A job that may have added or removed snapshots or data, and did not fail. */
  private static boolean changesTheRepository(JobKind kind, JobStatus status) {
    return (kind == JobKind.BACKUP || kind == JobKind.FORGET || kind == JobKind.PRUNE)
        && (status == JobStatus.SUCCEEDED || status == JobStatus.WARNING);
  }

  private void runOne(Job job) {
    boolean stopping;
    synchronized (this) {
      stopping = closed;
    }
    if (stopping) {
      storeNotStarted(job);
      return;
    }
    store(new JobStarted(job.id(), job.kind(), clock.instant()));
    JobFinished end = runner.run(job.id(), job.kind(), job.restore(), p -> events.progress(p));
    store(end);
    if (changesTheRepository(job.kind(), end.status())) {
      synchronized (this) {
        statsDue = System.nanoTime();
      }
    }
  }

  /** Stores the start and the {@code cancelled} end of a job that never ran, so that it is reported. */
  private void storeNotStarted(Job job) {
    store(new JobStarted(job.id(), job.kind(), clock.instant()));
    store(new JobFinished(job.id(), JobStatus.CANCELLED, clock.instant(), ResticRunner.NOT_STARTED,
        Optional.of(NOT_STARTED_ERROR), Optional.empty()));
  }

  private void store(Frame.FromAgent frame) {
    Outbox.Entry e;
    try {
      e = outbox.append(frame);
    } catch (IOException | RuntimeException ex) {
      log.error("Outbox cannot store [{}]; sending it once without a safety net", frame.type(), ex);
      events.unstored(frame);
      return;
    }
    events.stored(e);
  }

  /**
   * Stops taking jobs, stores every queued one as started and {@code cancelled} (they never run),
   * cancels the running restic (its {@code job.finished} says cancelled and is stored) and waits up to
   * {@code wait} for the lane to end.
   */
  public void close(Duration wait) {
    List<Job> unstarted;
    synchronized (this) {
      unstarted = List.copyOf(pending);
      pending.clear();
      closed = true;
      notifyAll();
    }
    if (!unstarted.isEmpty()) {
      log.warn("Reporting [{}] queued job(s) that never started as cancelled", unstarted.size());
    }
    unstarted.forEach(this::storeNotStarted);
    long deadline = System.nanoTime() + wait.toNanos();
    try {
      // Repeated: a job may have been between "not closed" and starting restic at the first cancel.
      while (worker.isAlive() && System.nanoTime() < deadline) {
        runner.cancel();
        worker.join(Math.max(1, Math.min(500, (deadline - System.nanoTime()) / 1_000_000)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) log.warn("The job lane did not stop within [{}]", wait);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  /** Waits until nothing is queued or running and no statistics are due; for tests and a graceful demo. */
  public synchronized boolean awaitIdle(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!pending.isEmpty() || current != null || collecting || (statsDue() && !closed)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) return false;
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
