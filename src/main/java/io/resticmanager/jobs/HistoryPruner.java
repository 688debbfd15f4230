package io.resticmanager.jobs;

import io.resticmanager.store.JobStore;
import io.resticmanager.store.Page;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Bounds the job history (RM_JOBS_RETENTION): every {@code interval} it sweeps the jobs that finished more
 * than {@code retention} ago, {@code batch} at a time, each step one short transaction of the store's
 * writer followed by a pause of at least {@code pause} and at least three times the step's own time, so
 * that ingestion's writes queue behind at most one small step, never behind the whole backlog, and the
 * pruner holds the writer at most a quarter of the time however slow the disk. Running jobs and the newest job of each host, kind and status are kept
 * ({@link JobStore#deleteFinishedBefore}). One pruner runs in the cluster (a cluster singleton), so nodes
 * do not delete the same rows twice; a failed step is logged and the sweep starts again at the next
 * interval. Takes no messages from outside.
 */
public final class HistoryPruner {
  /** How the sweeps run; {@code pause} is the least pause between steps. */
  public record Pace(Duration firstSweep, Duration interval, int batch, Duration pause) {
    private static final Duration FIRST = Duration.ofSeconds(30);

    /** The server's: the first sweep 30 s after start (sooner when {@code interval} is shorter), 500 jobs a step, pauses ≥ 50 ms. */
    public static Pace every(Duration interval) {
      return new Pace(interval.compareTo(FIRST) < 0 ? interval : FIRST, interval, 500, Duration.ofMillis(50));
    }
  }

  private HistoryPruner() {}

  private sealed interface Command {}

  private enum Sweep implements Command { INSTANCE }

  private record Step(Optional<Page.Cursor> after) implements Command {}

  private record Stepped(JobStore.Swept swept, Throwable failure) implements Command {}

  public static Behavior<Void> create(JobStore jobs, Duration retention, Pace pace, LongSupplier clock) {
    return Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Sweep.INSTANCE, pace.firstSweep());
      return new HistoryPruner.Sweeper(ctx, timers, jobs, retention, pace, clock).idle();
    })).unsafeCast();
  }

  private static final class Sweeper {
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final JobStore jobs;
    private final Duration retention;
    private final Pace pace;
    private final LongSupplier clock;
    private long stepStarted;

    Sweeper(ActorContext<Command> ctx, TimerScheduler<Command> timers, JobStore jobs, Duration retention, Pace pace,
        LongSupplier clock) {
      this.ctx = ctx;
      this.timers = timers;
      this.jobs = jobs;
      this.retention = retention;
      this.pace = pace;
      this.clock = clock;
    }

    Behavior<Command> idle() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Sweep.INSTANCE, () -> {
            long cutoff = clock.getAsLong() - retention.toMillis();
            ctx.getSelf().tell(new Step(Optional.empty()));
            return sweeping(cutoff, 0, 0, clock.getAsLong());
          })
          .build();
    }

    private Behavior<Command> sweeping(long cutoff, long examined, long deleted, long began) {
      return Behaviors.receive(Command.class)
          .onMessage(Step.class, s -> {
            stepStarted = System.nanoTime();
            ctx.pipeToSelf(jobs.deleteFinishedBefore(cutoff, s.after(), pace.batch()), Stepped::new);
            return Behaviors.same();
          })
          .onMessage(Stepped.class, s -> {
            if (s.failure() != null) {
              ctx.getLog().warn("Job retention: a sweep step failed after deleting {} jobs; trying again in {}: {}",
                  deleted, pace.interval(), s.failure().toString());
              return next();
            }
            long nowExamined = examined + s.swept().examined();
            long nowDeleted = deleted + s.swept().deleted();
            if (s.swept().next().isPresent()) {
              Duration took = Duration.ofNanos(System.nanoTime() - stepStarted);
              Duration pause = took.multipliedBy(3).compareTo(pace.pause()) > 0 ? took.multipliedBy(3) : pace.pause();
              timers.startSingleTimer(new Step(s.swept().next()), pause);
              return sweeping(cutoff, nowExamined, nowDeleted, began);
            }
            if (nowDeleted > 0) {
              ctx.getLog().info("Job retention: deleted {} of {} jobs that finished before {} in {} ms", nowDeleted,
                  nowExamined, Instant.ofEpochMilli(cutoff), clock.getAsLong() - began);
            }
            return next();
          })
          .onMessageEquals(Sweep.INSTANCE, Behaviors::same) // a sweep is already running
          .build();
    }

    private Behavior<Command> next() {
      timers.startSingleTimer(Sweep.INSTANCE, pace.interval());
      return idle();
    }
  }
}
