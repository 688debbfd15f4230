package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.jobs.JobKind;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JobSchedulerTest {

  @Test
  void anEnabledScheduleSubmitsAFreshJobAtEveryDueTimeAndADisabledOneNever() throws Exception {
    record Submitted(UUID id, JobKind kind, long atMillis) {}
    BlockingQueue<Submitted> got = new LinkedBlockingQueue<>();
    Clock clock = Clock.systemUTC();
    Map<JobKind, Schedule> schedules = Map.of(
        JobKind.BACKUP, new Schedule(Duration.ofMillis(200), Duration.ofMillis(50)),
        JobKind.PRUNE, Schedule.DISABLED);
    try (JobScheduler s = new JobScheduler(schedules, (id, k) -> got.add(new Submitted(id, k, clock.millis())), clock)) {
      s.start();
      HashSet<UUID> ids = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        Submitted x = got.poll(10, TimeUnit.SECONDS);
        assertTrue(x != null, "submission " + i + " did not come");
        assertEquals(JobKind.BACKUP, x.kind());
        assertTrue(ids.add(x.id()), "every job gets its own id");
        long phase = Math.floorMod(x.atMillis() - 50, 200);
        long offSlot = Math.min(phase, 200 - phase); // timers may fire a millisecond early
        assertTrue(offSlot < 100, "fired " + phase + " ms after its slot at offset 50 ms");
      }
    }
  }
}
