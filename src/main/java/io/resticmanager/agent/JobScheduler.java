package io.resticmanager.agent;

import io.resticmanager.jobs.JobKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires the configured {@link Schedule}s: at each due time it submits a job of that kind (with a fresh
 * job id) to its consumer, the {@link JobQueue}, and computes the next time from the clock, so a
 * suspended machine does not replay the missed slots. Owns one timer thread; never runs a job itself.
 */
public final class JobScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobScheduler.class);

  private final Map<JobKind, Schedule> schedules;
  private final BiConsumer<UUID, JobKind> submit;
  private final Clock clock;
  private final ScheduledExecutorService timer;

  public JobScheduler(Map<JobKind, Schedule> schedules, BiConsumer<UUID, JobKind> submit, Clock clock) {
    this.schedules = Map.copyOf(schedules);
    this.submit = Objects.requireNonNull(submit, "submit");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "agent-schedule");
      t.setDaemon(true);
      return t;
    });
  }

  public void start() {
    schedules.forEach((kind, s) -> {
      if (s.enabled()) {
        planAfter(kind, s, clock.instant());
      } else {
        log.info("Schedule [{}]: disabled", kind.wire());
      }
    });
  }

  private void planAfter(JobKind kind, Schedule s, Instant after) {
    Instant next = s.nextAfter(after).orElseThrow();
    long delay = Math.max(0, Duration.between(clock.instant(), next).toMillis());
    log.info("Schedule [{}]: next at [{}]", kind.wire(), next);
    timer.schedule(() -> fire(kind, s, next), delay, TimeUnit.MILLISECONDS);
  }

  private void fire(JobKind kind, Schedule s, Instant due) {
    try {
      submit.accept(UUID.randomUUID(), kind);
    } catch (RuntimeException e) {
      log.error("Schedule [{}]: cannot submit the job", kind.wire(), e);
    }
    Instant now = clock.instant();
    planAfter(kind, s, now.isAfter(due) ? now : due);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
