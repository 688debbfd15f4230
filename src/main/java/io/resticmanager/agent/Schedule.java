package io.resticmanager.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * When one kind of job runs: every {@code interval}, aligned to the Unix epoch and shifted by
 * {@code offset} (interval 1h, offset 15m fires at every quarter past the hour, whenever the agent
 * started). Aligning to the clock rather than to the agent's start keeps the times stable across
 * restarts. A zero interval means disabled. A pure value: {@link JobScheduler} asks it for the next
 * time; it never schedules anything itself.
 */
public record Schedule(Duration interval, Duration offset) {

  public static final Schedule DISABLED = new Schedule(Duration.ZERO, Duration.ZERO);

  public Schedule {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(offset, "offset");
    if (interval.isNegative()) throw new IllegalArgumentException("interval must be >= 0: " + interval);
    if (offset.isNegative()) throw new IllegalArgumentException("offset must be >= 0: " + offset);
    if (!interval.isZero() && offset.compareTo(interval) >= 0) {
      throw new IllegalArgumentException("offset " + offset + " must be below the interval " + interval);
    }
  }

  public boolean enabled() {
    return !interval.isZero();
  }

  /** The first firing time strictly after {@code now}, at millisecond resolution; empty when disabled. */
  public Optional<Instant> nextAfter(Instant now) {
    if (!enabled()) return Optional.empty();
    long interval = Math.max(1, this.interval.toMillis());
    long offset = this.offset.toMillis();
    long t = now.toEpochMilli() - offset;
    long next = Math.floorDiv(t, interval) * interval + interval + offset;
    return Optional.of(Instant.ofEpochMilli(next));
  }
}
