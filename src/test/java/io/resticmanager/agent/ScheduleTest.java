package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleTest {

  @Test
  void anHourlyScheduleWithAQuarterOffsetFiresAtQuarterPast() {
    Schedule s = new Schedule(Duration.ofHours(1), Duration.ofMinutes(15));
    assertEquals(Instant.parse("2025-03-01T10:15:00Z"), s.nextAfter(Instant.parse("2025-03-01T10:00:00Z")).orElseThrow());
    assertEquals(Instant.parse("2025-03-01T11:15:00Z"), s.nextAfter(Instant.parse("2025-03-01T10:15:00Z")).orElseThrow());
    assertEquals(Instant.parse("2025-03-01T11:15:00Z"), s.nextAfter(Instant.parse("2025-03-01T10:59:59Z")).orElseThrow());
  }

  @Test
  void theNextTimeIsAlwaysStrictlyLaterAndWithinOneInterval() {
    Schedule s = new Schedule(Duration.ofMinutes(7), Duration.ofSeconds(30));
    Instant t = Instant.parse("2025-01-01T00:00:00Z");
    for (int i = 0; i < 1000; i++) {
      Instant now = t.plusMillis(i * 997L);
      Instant next = s.nextAfter(now).orElseThrow();
      assertTrue(next.isAfter(now));
      assertTrue(!next.isAfter(now.plus(Duration.ofMinutes(7))));
    }
  }

  @Test
  void aZeroIntervalIsDisabled() {
    assertTrue(Schedule.DISABLED.nextAfter(Instant.now()).isEmpty());
  }

  @Test
  void anOffsetAsLongAsTheIntervalIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Schedule(Duration.ofHours(1), Duration.ofHours(1)));
  }
}
