package io.resticmanager.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.BuildInfo;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class JobTrackerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static JobDurations snapshot(ActorRef<JobTracker.Command> tracker) {
    TestProbe<JobDurations> probe = testKit.createTestProbe();
    tracker.tell(new JobTracker.GetSnapshot(probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void aFreshTrackerHasEveryKindAndStatusAtZero() {
    JobDurations durations = snapshot(testKit.spawn(JobTracker.create()));
    for (JobKind kind : JobKind.values()) {
      for (JobStatus status : JobStatus.values()) {
        assertEquals(0, durations.count(kind, status), kind + "/" + status);
        assertEquals(0.0, durations.sumSeconds(kind, status));
      }
    }
    String text = new String(PrometheusTextWriter.INSTANCE.toBytes(
        ServerMetrics.build(durations, new FleetSample(List.of(), 0, Map.of()), new BuildInfo("v", "r", "j"))), UTF_8);
    for (JobKind kind : JobKind.values()) {
      for (JobStatus status : JobStatus.values()) {
        assertTrue(text.contains("restic_manager_job_duration_seconds_count{kind=\"" + kind.wire()
            + "\",status=\"" + status.wire() + "\"} 0\n"), kind + "/" + status);
      }
    }
  }

  @Test
  void aFinishedJobLandsInItsBucket() {
    ActorRef<JobTracker.Command> tracker = testKit.spawn(JobTracker.create());
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(45)));
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(60)));
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.CHECK, JobStatus.FAILED, Duration.ofHours(25)));

    JobDurations durations = snapshot(tracker);

    long[] backup = new long[JobDurations.BUCKETS.size()];
    backup[4] = 2;
    assertArrayEquals(backup, durations.bucketCounts(JobKind.BACKUP, JobStatus.SUCCEEDED));
    assertEquals(2, durations.count(JobKind.BACKUP, JobStatus.SUCCEEDED));
    assertEquals(105.0, durations.sumSeconds(JobKind.BACKUP, JobStatus.SUCCEEDED));
    assertEquals(1, durations.count(JobKind.CHECK, JobStatus.FAILED));
    assertArrayEquals(new long[JobDurations.BUCKETS.size()], durations.bucketCounts(JobKind.CHECK, JobStatus.FAILED));
    assertEquals(25 * 3600.0, durations.sumSeconds(JobKind.CHECK, JobStatus.FAILED));
    assertEquals(0, durations.count(JobKind.BACKUP, JobStatus.FAILED));
  }

  @Test
  void aNegativeDurationCountsAsZero() {
    ActorRef<JobTracker.Command> tracker = testKit.spawn(JobTracker.create());
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.FORGET, JobStatus.WARNING, Duration.ofSeconds(-30)));

    JobDurations durations = snapshot(tracker);

    assertEquals(1, durations.bucketCount(JobKind.FORGET, JobStatus.WARNING, 0));
    assertEquals(1, durations.count(JobKind.FORGET, JobStatus.WARNING));
    assertEquals(0.0, durations.sumSeconds(JobKind.FORGET, JobStatus.WARNING));
  }

  @Test
  void anEarlierSnapshotIsUnchangedByLaterRecords() {
    ActorRef<JobTracker.Command> tracker = testKit.spawn(JobTracker.create());
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.PRUNE, JobStatus.SUCCEEDED, Duration.ofMinutes(3)));
    JobDurations before = snapshot(tracker);

    tracker.tell(new JobTracker.RecordJobFinished(JobKind.PRUNE, JobStatus.SUCCEEDED, Duration.ofMinutes(4)));
    JobDurations after = snapshot(tracker);

    assertEquals(1, before.count(JobKind.PRUNE, JobStatus.SUCCEEDED));
    assertEquals(180.0, before.sumSeconds(JobKind.PRUNE, JobStatus.SUCCEEDED));
    assertEquals(1, before.bucketCount(JobKind.PRUNE, JobStatus.SUCCEEDED, 6));
    assertEquals(2, after.count(JobKind.PRUNE, JobStatus.SUCCEEDED));
    assertEquals(420.0, after.sumSeconds(JobKind.PRUNE, JobStatus.SUCCEEDED));
    assertEquals(2, after.bucketCount(JobKind.PRUNE, JobStatus.SUCCEEDED, 6));
  }

  @Test
  void exposedHistogramsStayConsistentUnderManyRandomJobs() {
    long seed = 7_2024_0601L;
    Random random = new Random(seed);
    ActorRef<JobTracker.Command> tracker = testKit.spawn(JobTracker.create());
    Map<String, Double> expectedSums = new HashMap<>();
    Map<String, Long> expectedCounts = new HashMap<>();
    for (int i = 0; i < 5000; i++) {
      JobKind kind = JobKind.values()[random.nextInt(JobKind.values().length)];
      JobStatus status = JobStatus.values()[random.nextInt(JobStatus.values().length)];
      Duration took = Duration.ofNanos(random.nextLong() % 200_000_000_000_000L);
      tracker.tell(new JobTracker.RecordJobFinished(kind, status, took));
      String key = kind.wire() + "/" + status.wire();
      double clamped = took.isNegative() ? 0 : took.toNanos() / 1e9;
      expectedSums.merge(key, clamped, Double::sum);
      expectedCounts.merge(key, 1L, Long::sum);
    }

    String text = new String(PrometheusTextWriter.INSTANCE.toBytes(ServerMetrics.build(
        snapshot(tracker), new FleetSample(List.of(), 0, Map.of()), new BuildInfo("v", "r", "j"))), UTF_8);

    Map<String, List<Long>> buckets = new HashMap<>();
    Map<String, Long> counts = new HashMap<>();
    Map<String, Double> sums = new HashMap<>();
    Pattern line = Pattern.compile(
        "restic_manager_job_duration_seconds_(bucket|count|sum)\\{kind=\"(\\w+)\",status=\"(\\w+)\"(?:,le=\"([^\"]+)\")?} (\\S+)");
    for (String l : text.split("\n")) {
      Matcher m = line.matcher(l);
      if (!m.matches()) continue;
      String key = m.group(2) + "/" + m.group(3);
      switch (m.group(1)) {
        case "bucket" -> buckets.computeIfAbsent(key, k -> new ArrayList<>()).add(Long.parseLong(m.group(5)));
        case "count" -> counts.put(key, Long.parseLong(m.group(5)));
        default -> sums.put(key, Double.parseDouble(m.group(5)));
      }
    }

    assertEquals(JobKind.values().length * JobStatus.values().length, buckets.size());
    for (String key : buckets.keySet()) {
      List<Long> cumulative = buckets.get(key);
      assertEquals(JobDurations.BUCKETS.size() + 1, cumulative.size(), key);
      for (int i = 1; i < cumulative.size(); i++) {
        assertTrue(cumulative.get(i - 1) <= cumulative.get(i), key + " buckets must be cumulative: " + cumulative);
      }
      assertEquals(counts.get(key), cumulative.get(cumulative.size() - 1), key + ": +Inf must equal _count");
      assertEquals(expectedCounts.getOrDefault(key, 0L), counts.get(key), key + " (seed " + seed + ")");
      assertNotNull(sums.get(key), key);
      double sum = sums.get(key);
      assertTrue(Double.isFinite(sum), key);
      double expected = expectedSums.getOrDefault(key, 0.0);
      assertEquals(expected, sum, Math.max(1e-6, expected * 1e-12), key + " (seed " + seed + ")");
    }
  }
}
