package io.resticmanager.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code restic forget} retention policy; 0 leaves that {@code --keep-*} flag out. A value,
 * validated by {@link AgentSettings}; {@link ResticRunner} turns it into arguments.
 */
public record ForgetPolicy(int keepLast, int keepHourly, int keepDaily, int keepWeekly, int keepMonthly, int keepYearly) {

  public static final ForgetPolicy NONE = new ForgetPolicy(0, 0, 0, 0, 0, 0);

  public ForgetPolicy {
    for (int v : new int[] {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly}) {
      if (v < 0) throw new IllegalArgumentException("keep-* must be >= 0: " + v);
    }
  }

  /** True when no flag would be passed: restic would then keep everything. */
  public boolean isEmpty() {
    return args().isEmpty();
  }

  /** The restic flags, in a fixed order. */
  public List<String> args() {
    List<String> a = new ArrayList<>();
    add(a, "--keep-last", keepLast);
    add(a, "--keep-hourly", keepHourly);
    add(a, "--keep-daily", keepDaily);
    add(a, "--keep-weekly", keepWeekly);
    add(a, "--keep-monthly", keepMonthly);
    add(a, "--keep-yearly", keepYearly);
    return List.copyOf(a);
  }

  private static void add(List<String> a, String flag, int v) {
    if (v > 0) {
      a.add(flag);
      a.add(Integer.toString(v));
    }
  }
}
