package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.fleet.HostStatus;
import io.resticmanager.jobs.JobKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FleetPageTest {
  private static final long NOW = 1_764_300_000_000L;
  private static final long H = 3_600_000L;
  private final FleetPage page = new FleetPage(Duration.ofHours(26));

  private static HostStatus host(String name, boolean online, long lastSnapshot, int alerts, String os) {
    Map<JobKind, Long> jobs = lastSnapshot > 0 ? Map.of(JobKind.BACKUP, lastSnapshot) : Map.of();
    return new HostStatus("id-" + name, name, true, online, NOW, "1", "0.17", os, NOW - 100 * H, jobs, jobs,
        lastSnapshot, 10, 3, 1 << 20, alerts);
  }

  private static List<String> names(String html) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("<td><a href=\"/ui/hosts/[^\"]+\">([^<]+)</a>").matcher(html);
    while (m.find()) out.add(m.group(1));
    return out;
  }

  private String render(List<HostStatus> hosts, FleetPage.Sort sort, String filter) {
    StringBuilder out = new StringBuilder();
    page.fragment(out, hosts, NOW, sort, filter);
    return out.toString();
  }

  @Test
  void theWorstHostsComeFirst() {
    List<HostStatus> hosts = List.of(
        host("fine", true, NOW - H, 0, "linux"),
        host("offline", false, NOW - H, 0, "linux"),
        host("stale", true, NOW - 30 * H, 0, "linux"),
        host("alerting", true, NOW - 2 * H, 1, "linux"),
        host("never", true, 0, 1, "linux"));
    assertEquals(List.of("never", "alerting", "stale", "offline", "fine"),
        names(render(hosts, FleetPage.Sort.WORST, "")));
    assertEquals(List.of("alerting", "fine", "never", "offline", "stale"),
        names(render(hosts, FleetPage.Sort.NAME, "")));
  }

  @Test
  void agesAreColouredAgainstTheBackupMaxAge() {
    String html = render(List.of(host("a", true, NOW - 2 * H, 0, "")), FleetPage.Sort.WORST, "");
    assertTrue(html.contains("<td class=\"ok\">2h 0m ago</td>"), html);
    html = render(List.of(host("a", true, NOW - 20 * H, 0, "")), FleetPage.Sort.WORST, "");
    assertTrue(html.contains("<td class=\"warn\">20h 0m ago</td>"), html);
    html = render(List.of(host("a", true, NOW - 27 * H, 0, "")), FleetPage.Sort.WORST, "");
    assertTrue(html.contains("<td class=\"bad\">27h 0m ago</td>"), html);
  }

  @Test
  void theFilterMatchesNameOrOsAndIsEscapedBack() {
    List<HostStatus> hosts = List.of(host("web-1", true, NOW - H, 0, "debian"), host("db-1", true, NOW - H, 0, "alpine"));
    assertEquals(List.of("db-1"), names(render(hosts, FleetPage.Sort.NAME, "ALP")));
    String full = page.page(hosts, NOW, FleetPage.Sort.WORST, "\"><script>", new Assets(), "tok");
    assertTrue(full.contains("value=\"&quot;&gt;&lt;script&gt;\""), full);
    assertFalse(full.contains("\"><script>"));
  }

  @Test
  void everyAgentValueIsEscaped() {
    HostStatus evil = new HostStatus("\"><b>", "<i>name</i>", true, true, NOW, "<v>", "<r>", "<script>alert(1)</script>",
        NOW, Map.of(), Map.of(), 0, -1, -1, -1, 0);
    String html = page.page(List.of(evil), NOW, FleetPage.Sort.WORST, "", new Assets(), "tok");
    assertFalse(html.contains("<i>") || html.contains("<script>alert") || html.contains("\"><b>"), html);
    assertTrue(html.contains("&lt;i&gt;name&lt;/i&gt;") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  }

  @Test
  void theLastJobsStatusComesFromTheLastSuccessAndSnapshot() {
    HostStatus h = new HostStatus("i", "n", true, true, NOW, "", "", "", NOW,
        Map.of(JobKind.BACKUP, NOW - H, JobKind.CHECK, NOW - 2 * H, JobKind.FORGET, NOW - 3 * H),
        Map.of(JobKind.CHECK, NOW - 2 * H, JobKind.FORGET, NOW - 4 * H), NOW - H, 0, 1, 1, 0);
    assertEquals("warning", FleetPage.status(h, JobKind.BACKUP, NOW - H));
    assertEquals("succeeded", FleetPage.status(h, JobKind.CHECK, NOW - 2 * H));
    assertEquals("failed", FleetPage.status(h, JobKind.FORGET, NOW - 3 * H));
  }
}
