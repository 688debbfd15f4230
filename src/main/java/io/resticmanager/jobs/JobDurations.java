package io.resticmanager.jobs;

import io.resticmanager.metrics.HistogramBuckets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable snapshot of the job-duration histograms: for every {@link JobKind} × {@link JobStatus}
 * (all present, zero when nothing finished) the per-bucket counts, the count and the sum in seconds.
 * {@link JobTracker} produces it on {@code GetSnapshot}; {@code ServerMetrics} turns it into the
 * {@code restic_manager_job_duration_seconds} family. It never changes after construction.
 *
 * <p>Layout, shared with the tracker's arrays: one series per kind × status at
 * {@code kind.ordinal() * statuses + status.ordinal()}, each with {@code BUCKETS.size() + 1} per-bucket
 * counts (the last one for durations above the highest bound) and one sum in seconds.
 */
public final class JobDurations {

  /** The contract's job-duration buckets in seconds (§5); {@code +Inf} is implicit. */
  public static final HistogramBuckets BUCKETS =
      HistogramBuckets.of(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400);

  private static final double[] BOUNDS = BUCKETS.upperBounds();
  static final int SLOTS = BOUNDS.length + 1;
  private static final int STATUSES = JobStatus.values().length;
  static final int SERIES = JobKind.values().length * STATUSES;

  private static final JobDurations EMPTY = new JobDurations(new long[SERIES * SLOTS], new double[SERIES]);

  private final long[] slotCounts;
  private final double[] sums;

  /** Takes ownership of both arrays: the caller passes copies. */
  JobDurations(long[] slotCounts, double[] sums) {
    this.slotCounts = slotCounts;
    this.sums = sums;
  }

  /** No job finished yet: every series present with zero counts. */
  public static JobDurations empty() {
    return EMPTY;
  }

  /** A copy with one more observation; for tests and one-off use, the tracker records in place. */
  public JobDurations plus(JobKind kind, JobStatus status, Duration took) {
    long[] counts = slotCounts.clone();
    double[] newSums = sums.clone();
    record(counts, newSums, kind, status, took);
    return new JobDurations(counts, newSums);
  }

  /**
   * Finished jobs in bucket {@code i} alone (not cumulative), {@code 0 <= i < BUCKETS.size()}; those above
   * the highest bound count only in {@link #count}.
   */
  public long bucketCount(JobKind kind, JobStatus status, int i) {
    Objects.checkIndex(i, BOUNDS.length);
    return slotCounts[series(kind, status) * SLOTS + i];
  }

  /** The per-bucket counts of one series, {@code BUCKETS.size()} long; a copy. */
  public long[] bucketCounts(JobKind kind, JobStatus status) {
    int from = series(kind, status) * SLOTS;
    return Arrays.copyOfRange(slotCounts, from, from + BOUNDS.length);
  }

  public long count(JobKind kind, JobStatus status) {
    int from = series(kind, status) * SLOTS;
    long total = 0;
    for (int i = from; i < from + SLOTS; i++) total += slotCounts[i];
    return total;
  }

  public double sumSeconds(JobKind kind, JobStatus status) {
    return sums[series(kind, status)];
  }

  /** The hot path, shared with {@link JobTracker}: clamp, find the bucket, count, add. */
  static void record(long[] slotCounts, double[] sums, JobKind kind, JobStatus status, Duration took) {
    double seconds = clampedSeconds(took);
    int series = series(kind, status);
    slotCounts[series * SLOTS + slot(seconds)]++;
    sums[series] += seconds;
  }

  static int series(JobKind kind, JobStatus status) {
    return kind.ordinal() * STATUSES + status.ordinal();
  }

  /** Negative durations count as 0 s (contract §4). */
  static double clampedSeconds(Duration took) {
    return took.isNegative() ? 0.0 : took.getSeconds() + took.getNano() / 1e9;
  }

  /** The first bucket whose bound is {@code >= seconds} ({@code le} is inclusive), or the overflow slot. */
  static int slot(double seconds) {
    int lo = 0;
    int hi = BOUNDS.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (seconds <= BOUNDS[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
}
