package io.resticmanager.jobs;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One histogram observation with the contract's 15 buckets: our path ({@link JobDurations#record}, which
 * {@link JobTracker} runs for every {@code RecordJobFinished}: clamp the {@link Duration}, pick the
 * kind × status series, find the bucket, count, add) against client_java 1.10's classic
 * {@link Histogram} (classic buckets only, exemplars off, so the baseline does as little as it can).
 *
 * <p>Both sides take the same pseudo-random values spread over all buckets and all 20 kind × status
 * series. {@code clientJava_labelValuesObserve} resolves the series by label values on every call, as
 * ours does by enum ordinals; {@code clientJava_observe} uses a pre-resolved data point, the fastest
 * client_java can go (it then always hits the same series).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ObserveBench {
  private static final int VALUES = 4096;

  private final Duration[] durations = new Duration[VALUES];
  private final double[] seconds = new double[VALUES];
  private final JobKind[] kinds = new JobKind[VALUES];
  private final JobStatus[] statuses = new JobStatus[VALUES];
  private final String[] kindWire = new String[VALUES];
  private final String[] statusWire = new String[VALUES];
  private int i;

  private final long[] slotCounts = new long[JobDurations.SERIES * JobDurations.SLOTS];
  private final double[] sums = new double[JobDurations.SERIES];
  private Histogram histogram;
  private DistributionDataPoint dataPoint;

  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(7);
    for (int k = 0; k < VALUES; k++) {
      // Log-uniform over 0.1 s .. 2 days so every bucket, +Inf included, gets hits.
      double s = Math.round(Math.exp(Math.log(0.1) + random.nextDouble() * Math.log(1_728_000)) * 1000) / 1000.0;
      seconds[k] = s;
      durations[k] = Duration.ofMillis(Math.round(s * 1000));
      kinds[k] = JobKind.values()[random.nextInt(JobKind.values().length)];
      statuses[k] = JobStatus.values()[random.nextInt(JobStatus.values().length)];
      kindWire[k] = kinds[k].wire();
      statusWire[k] = statuses[k].wire();
    }
    histogram = Histogram.builder()
        .name("restic_manager_job_duration_seconds").help("finished jobs")
        .labelNames("kind", "status")
        .classicOnly().classicUpperBounds(JobDurations.BUCKETS.upperBounds())
        .withoutExemplars()
        .build();
    for (JobKind k : JobKind.values()) {
      for (JobStatus s : JobStatus.values()) histogram.labelValues(k.wire(), s.wire());
    }
    dataPoint = histogram.labelValues("backup", "succeeded");
  }

  private int next() {
    return i = (i + 1) & (VALUES - 1);
  }

  @Benchmark
  public void ours_record() {
    int k = next();
    JobDurations.record(slotCounts, sums, kinds[k], statuses[k], durations[k]);
  }

  @Benchmark
  public void clientJava_observe() {
    dataPoint.observe(seconds[next()]);
  }

  @Benchmark
  public void clientJava_labelValuesObserve() {
    int k = next();
    histogram.labelValues(kindWire[k], statusWire[k]).observe(seconds[k]);
  }
}
