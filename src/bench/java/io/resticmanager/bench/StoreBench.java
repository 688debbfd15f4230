package io.resticmanager.bench;

import io.resticmanager.config.Settings;
import io.resticmanager.fleet.AlertRules;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.store.Database;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The store's share of an acked job, without HTTP, WebSockets or actors: {@value #JOBS} jobs, each a
 * {@code JobStore.start} and a {@code JobStore.finish} (with the alert rules of a succeeded backup, in the
 * same transaction) queued at once on SQLite with {@code synchronous=FULL}, through the group-commit
 * writer; the invocation ends when every finish is committed. Score: jobs per second. This is the
 * ceiling the database puts on acked {@code job.finished} per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class StoreBench {
  static final int JOBS = 2_000;
  private static final int HOSTS = 100;

  private Path dir;
  private Database db;
  private JobStore jobs;
  private final List<String> hostIds = new ArrayList<>();

  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = Files.createTempDirectory("rm-store-bench");
    db = Database.open(new Settings.Db("jdbc:sqlite:" + dir.resolve("bench.db"), "", "", 2, "FULL"), Runnable::run);
    HostStore hosts = new HostStore(db);
    jobs = new JobStore(db);
    long now = System.currentTimeMillis();
    for (int i = 0; i < HOSTS; i++) {
      String token = hosts.createEnrollmentToken(now, 3_600_000).toCompletableFuture().get().token();
      String id = UUID.randomUUID().toString();
      hosts.enroll(token, "host-" + i, id, now).toCompletableFuture().get();
      hostIds.add(id);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    long[] stats = db.writerStats();
    System.out.printf("%n[store] commits=%d writes=%d mean batch=%.1f%n", stats[0], stats[1],
        stats[1] / (double) Math.max(1, stats[0]));
    db.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  @OperationsPerInvocation(JOBS)
  public void startAndFinish() throws Exception {
    long now = System.currentTimeMillis();
    List<CompletableFuture<JobStore.FinishOutcome>> finishes = new ArrayList<>(JOBS);
    for (int i = 0; i < JOBS; i++) {
      String host = hostIds.get(i % HOSTS);
      String job = UUID.randomUUID().toString();
      jobs.start(host, job, JobKind.BACKUP, now - 95_000);
      JobStore.Finish finish = new JobStore.Finish(job, JobStatus.SUCCEEDED, now, 0, null,
          "{\"files_new\":12,\"data_added\":4096}", 4096L);
      finishes.add(jobs.finish(host, finish,
          kind -> AlertRules.onJobFinished("host", kind, JobStatus.SUCCEEDED, 0, null), now).toCompletableFuture());
    }
    for (CompletableFuture<JobStore.FinishOutcome> f : finishes) {
      if (!(f.get(60, TimeUnit.SECONDS) instanceof JobStore.Recorded)) throw new IllegalStateException("not recorded");
    }
  }
}
