package io.resticmanager.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class JobDurationsTest {

  @Test
  void theBucketsAreTheContractsOnes() {
    assertArrayEquals(
        new double[] {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400},
        JobDurations.BUCKETS.upperBounds());
  }

  @Test
  void emptyHasEverySeriesAtZero() {
    JobDurations empty = JobDurations.empty();
    for (JobKind kind : JobKind.values()) {
      for (JobStatus status : JobStatus.values()) {
        assertEquals(0, empty.count(kind, status));
        assertEquals(0.0, empty.sumSeconds(kind, status));
        assertArrayEquals(new long[JobDurations.BUCKETS.size()], empty.bucketCounts(kind, status));
      }
    }
  }

  @Test
  void bucketsIncludeTheirUpperBound() {
    assertEquals(0, JobDurations.slot(0));
    assertEquals(0, JobDurations.slot(1.0));
    assertEquals(1, JobDurations.slot(Math.nextUp(1.0)));
    assertEquals(4, JobDurations.slot(45));
    assertEquals(4, JobDurations.slot(60));
    assertEquals(14, JobDurations.slot(86400));
    assertEquals(15, JobDurations.slot(86400.5));
    for (int i = 0; i < JobDurations.BUCKETS.size(); i++) {
      double bound = JobDurations.BUCKETS.upperBound(i);
      assertEquals(i, JobDurations.slot(bound));
      assertEquals(i + 1, JobDurations.slot(Math.nextUp(bound)));
    }
  }

  @Test
  void negativeDurationsCountAsZeroSeconds() {
    assertEquals(0.0, JobDurations.clampedSeconds(Duration.ofSeconds(-5)));
    assertEquals(0.0, JobDurations.clampedSeconds(Duration.ofNanos(-1)));
    assertEquals(1.5, JobDurations.clampedSeconds(Duration.ofMillis(1500)));
  }

  @Test
  void plusLeavesTheOriginalUnchanged() {
    JobDurations one = JobDurations.empty().plus(JobKind.PRUNE, JobStatus.WARNING, Duration.ofSeconds(90));
    JobDurations two = one.plus(JobKind.PRUNE, JobStatus.WARNING, Duration.ofDays(2));

    assertEquals(0, JobDurations.empty().count(JobKind.PRUNE, JobStatus.WARNING));
    assertEquals(1, one.count(JobKind.PRUNE, JobStatus.WARNING));
    assertEquals(90.0, one.sumSeconds(JobKind.PRUNE, JobStatus.WARNING));
    assertEquals(1, one.bucketCount(JobKind.PRUNE, JobStatus.WARNING, 5));
    assertEquals(2, two.count(JobKind.PRUNE, JobStatus.WARNING));
    assertEquals(90.0 + 2 * 86400, two.sumSeconds(JobKind.PRUNE, JobStatus.WARNING));
    assertEquals(1, two.bucketCount(JobKind.PRUNE, JobStatus.WARNING, 5));
  }

  @Test
  void bucketCountRefusesTheOverflowSlot() {
    assertThrows(IndexOutOfBoundsException.class,
        () -> JobDurations.empty().bucketCount(JobKind.BACKUP, JobStatus.SUCCEEDED, JobDurations.BUCKETS.size()));
  }
}
