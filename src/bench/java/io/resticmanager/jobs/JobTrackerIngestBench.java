package io.resticmanager.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.MailboxSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link JobTracker} ingest through {@code tell} in a real {@link ActorSystem}: one invocation tells
 * {@value #BATCH} {@code RecordJobFinished} messages from the benchmark thread, then asks
 * {@code GetSnapshot} and waits for the reply, so every message has been processed when it ends. The
 * score is messages per second.
 *
 * <p>{@code setup}: {@code default} is how the server spawns the tracker today (default dispatcher,
 * throughput 5, default unbounded mailbox); {@code tuned} gives it a dispatcher with throughput 100 and
 * the single-consumer mailbox, the change recommended in docs/benchmarks.md (it needs the spawn in
 * {@code Guardian} to pass these {@link Props}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-Xms1g"})
public class JobTrackerIngestBench {
  static final int BATCH = 100_000;
  private static final int VALUES = 1024;

  @Param({"default", "tuned"})
  public String setup;

  private ActorSystem<Void> system;
  private ActorRef<JobTracker.Command> tracker;
  private final Duration[] durations = new Duration[VALUES];

  @Setup(Level.Trial)
  public void start() {
    Config config = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        bench-tracker-dispatcher {
          type = Dispatcher
          executor = fork-join-executor
          throughput = 100
        }
        bench-tracker-mailbox.mailbox-type = "org.apache.pekko.dispatch.SingleConsumerOnlyUnboundedMailbox"
        """).withFallback(ConfigFactory.load());
    system = ActorSystem.create(Behaviors.empty(), "ingest-bench", config);
    Props props = setup.equals("tuned")
        ? DispatcherSelector.fromConfig("bench-tracker-dispatcher")
            .withNext(MailboxSelector.fromConfig("bench-tracker-mailbox"))
        : Props.empty();
    tracker = system.systemActorOf(JobTracker.create(), "job-tracker", props);
    for (int i = 0; i < VALUES; i++) durations[i] = Duration.ofMillis(i * 97_531L);
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public JobDurations tell() throws Exception {
    JobKind[] kinds = JobKind.values();
    JobStatus[] statuses = JobStatus.values();
    for (int i = 0; i < BATCH; i++) {
      tracker.tell(new JobTracker.RecordJobFinished(kinds[i % kinds.length], statuses[i & 3], durations[i & (VALUES - 1)]));
    }
    CompletionStage<JobDurations> done =
        AskPattern.ask(tracker, JobTracker.GetSnapshot::new, Duration.ofSeconds(60), system.scheduler());
    return done.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
