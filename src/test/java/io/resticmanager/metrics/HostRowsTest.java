package io.resticmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.resticmanager.jobs.JobKind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link HostRows} kept up to date change by change against the same hosts rendered afresh, family by
 * family, by {@link RenderedHosts#of} (which keeps no per-host rows).
 */
class HostRowsTest {

  private static HostSample host(String name, long seen, int alerts) {
    return new HostSample(name, seen % 2 == 0, seen, Map.of(JobKind.BACKUP, 1_700_000_000_000L + seen),
        Map.of(), seen % 3 == 0 ? -1 : seen * 10, alerts, "0.1." + (seen % 5), "0.17.3", "linux",
        seen % 4 == 0 ? -1 : 1_699_000_000_000L + seen,
        seen % 5 == 0 ? null
            : new HostSample.Repository(seen % 30, seen * 1_000, seen % 7 == 0 ? -1 : seen * 2_000, seen));
  }

  /** Per family, the concatenated blocks. */
  private static List<byte[]> rows(RenderedHosts rendered) {
    List<byte[]> out = new ArrayList<>();
    for (int k = 0; k < ServerMetrics.hostFamilies(); k++) {
      TextBuffer buffer = new TextBuffer(1024);
      for (byte[] block : rendered.blocks(k)) buffer.append(block);
      out.add(buffer.toByteArray());
    }
    return out;
  }

  private static void assertSameRows(Map<String, HostSample> expected, HostRows kept) {
    List<byte[]> fresh = rows(RenderedHosts.of(List.copyOf(expected.values())));
    List<byte[]> actual = rows(kept.render());
    assertEquals(expected.size(), kept.render().hosts());
    for (int k = 0; k < fresh.size(); k++) assertArrayEquals(fresh.get(k), actual.get(k), "family " + k);
  }

  @Test
  void putsReplacementsAndRemovalsInAnyOrderGiveTheRowsOfTheHostsAsTheyAre() {
    Random random = new Random(42);
    Map<String, HostSample> hosts = new LinkedHashMap<>();
    HostRows rows = new HostRows();
    for (int step = 0; step < 3_000; step++) {
      String name = "host-" + random.nextInt(400);
      int op = random.nextInt(10);
      if (op == 0) {
        hosts.remove(name);
        rows.remove(name);
      } else {
        HostSample h = host(name, random.nextInt(1_000), op == 1 ? random.nextInt(3) : 0);
        hosts.put(name, h);
        rows.put(h);
      }
      // Render now and then, so that changes pile up between renderings as they do between scrapes.
      if (step % 7 == 0) assertSameRows(hosts, rows);
    }
    assertSameRows(hosts, rows);
    assertEquals(hosts.size(), rows.size());
  }

  @Test
  void aChangeRebuildsOnlyTheBlocksOfTheFamiliesItChangesAndNothingChangedRendersTheSameObject() {
    HostRows rows = new HostRows();
    for (int i = 0; i < 5 * HostRows.BLOCK; i++) rows.put(host(String.format("h%04d", i), 2 * i, 0));
    RenderedHosts before = rows.render();
    assertSame(before, rows.render(), "nothing changed");

    // Host 70 is in block 1; only its open alerts change (host_open_alerts is per-host family 10).
    rows.put(host("h0070", 140, 2));
    RenderedHosts after = rows.render();
    assertNotSame(before, after);
    for (int k = 0; k < ServerMetrics.hostFamilies(); k++) {
      for (int b = 0; b < 5; b++) {
        if (k == 10 && b == 1) {
          assertNotSame(before.blocks(k).get(b), after.blocks(k).get(b));
        } else {
          assertSame(before.blocks(k).get(b), after.blocks(k).get(b), "family " + k + " block " + b);
        }
      }
    }
    // Putting what is already known changes nothing.
    rows.put(host("h0070", 140, 2));
    assertSame(after, rows.render());
  }

  @Test
  void aHostNamedTwiceIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> RenderedHosts.of(List.of(host("a", 1, 0), host("a", 2, 0))));
  }
}
