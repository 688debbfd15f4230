package io.resticmanager.jobs;

import java.time.Duration;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Owns the job-duration histograms, one per {@link JobKind} × {@link JobStatus}, all present from start,
 * in plain arrays that never leave the actor except as an immutable {@link JobDurations} copy. Fed by
 * whoever durably stores a job's end (the agent connection), once per job; read by the metrics route.
 * It never deduplicates: recording a job exactly once is the sender's duty. Nothing here blocks.
 */
public final class JobTracker extends AbstractBehavior<JobTracker.Command> {

  public sealed interface Command {}

  /** A job's end was durably stored; record its duration once (negative durations count as 0). */
  public record RecordJobFinished(JobKind kind, JobStatus status, Duration took) implements Command {
    public RecordJobFinished {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(took, "took");
    }
  }

  /** Replies with an immutable copy of every histogram. */
  public record GetSnapshot(ActorRef<JobDurations> replyTo) implements Command {
    public GetSnapshot {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  private final long[] slotCounts = new long[JobDurations.SERIES * JobDurations.SLOTS];
  private final double[] sums = new double[JobDurations.SERIES];

  public static Behavior<Command> create() {
    return Behaviors.setup(JobTracker::new);
  }

  private JobTracker(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RecordJobFinished.class, this::onRecordJobFinished)
        .onMessage(GetSnapshot.class, this::onGetSnapshot)
        .build();
  }

  private Behavior<Command> onRecordJobFinished(RecordJobFinished command) {
    JobDurations.record(slotCounts, sums, command.kind(), command.status(), command.took());
    return this;
  }

  private Behavior<Command> onGetSnapshot(GetSnapshot command) {
    command.replyTo().tell(new JobDurations(slotCounts.clone(), sums.clone()));
    return this;
  }
}
