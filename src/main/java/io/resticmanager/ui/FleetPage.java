package io.resticmanager.ui;

import io.resticmanager.fleet.HostStatus;
import io.resticmanager.jobs.JobKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The fleet page ({@code GET /}): one row per enrolled host, the worst first unless another column is chosen.
 * Rendered from the hosts' in-memory status ({@code Fleet.statuses()}), never a query per host. The table is
 * the page's live region: {@link #fragment} renders it alone for the script's polling. Sorting and filtering
 * work without JavaScript (links and a GET form); the script does the same in the browser.
 */
public final class FleetPage {
  /** The columns the table sorts by; {@code worst} is the default. */
  public enum Sort {
    WORST, NAME, STATE, AGE, ALERTS, SIZE, SNAPSHOTS;

    final String key = name().toLowerCase(Locale.ROOT);

    static Optional<Sort> parse(String s) {
      for (Sort v : values()) if (v.key.equals(s)) return Optional.of(v);
      return Optional.empty();
    }
  }

  /** The kinds whose last job the table shows (restores are not routine). */
  private static final JobKind[] KINDS = {JobKind.BACKUP, JobKind.CHECK, JobKind.FORGET, JobKind.PRUNE};
  /** Longest filter text kept; longer input is cut. */
  static final int MAX_FILTER = 100;

  private final Duration backupMaxAge;

  public FleetPage(Duration backupMaxAge) {
    this.backupMaxAge = backupMaxAge;
  }

  /** The whole page. */
  public String page(List<HostStatus> hosts, long now, Sort sort, String filter, Assets assets, String csrf) {
    StringBuilder out = new StringBuilder(1024 + hosts.size() * 700);
    Html.open(out, "Fleet", assets, Html.Nav.FLEET, csrf);
    out.append("<div class=\"bar\"><h1>Fleet</h1><form class=\"filter\" method=\"get\" action=\"/\">")
        .append("<input type=\"search\" id=\"filter\" name=\"q\" placeholder=\"filter by name or os\" value=\"");
    Html.esc(out, filter).append("\" autocomplete=\"off\">");
    if (sort != Sort.WORST) out.append("<input type=\"hidden\" name=\"sort\" value=\"").append(sort.key).append("\">");
    out.append("<button type=\"submit\">Filter</button></form></div>");
    out.append("<div id=\"live\" data-refresh=\"").append(fragmentUrl(sort, filter)).append("\">");
    fragment(out, hosts, now, sort, filter);
    out.append("</div>");
    Html.close(out);
    return out.toString();
  }

  /** The live region alone: the summary line and the table. */
  public void fragment(StringBuilder out, List<HostStatus> hosts, long now, Sort sort, String filter) {
    String f = filter == null ? "" : filter.strip().toLowerCase(Locale.ROOT);
    List<HostStatus> shown = new ArrayList<>(hosts.size());
    int online = 0;
    int stale = 0;
    int alerting = 0;
    for (HostStatus h : hosts) {
      if (h.online()) online++;
      if (stale(h, now)) stale++;
      if (h.openAlerts() > 0) alerting++;
      if (f.isEmpty() || matches(h, f)) shown.add(h);
    }
    shown.sort(order(sort, now));
    out.append("<p class=\"summary\"><span>").append(hosts.size()).append(" hosts</span><span>").append(online)
        .append(" online</span><span class=\"").append(stale > 0 ? "bad" : "ok").append("\">").append(stale)
        .append(" without a backup in ").append(Html.age(backupMaxAge.toMillis())).append("</span><span class=\"")
        .append(alerting > 0 ? "bad" : "ok").append("\">").append(alerting).append(" with open alerts</span>");
    if (shown.size() != hosts.size()) out.append("<span>").append(shown.size()).append(" shown</span>");
    out.append("</p>");
    out.append("<table class=\"fleet\" id=\"fleet\" data-sorted=\"").append(sort.key).append("\"><thead><tr>");
    th(out, Sort.NAME, "Host", filter);
    th(out, Sort.STATE, "State", filter);
    th(out, Sort.AGE, "Last backup", filter);
    for (JobKind k : KINDS) out.append("<th>").append(k.wire()).append("</th>");
    th(out, Sort.SIZE, "Repository", filter);
    th(out, Sort.SNAPSHOTS, "Snapshots", filter);
    th(out, Sort.ALERTS, "Alerts", filter);
    out.append("</tr></thead><tbody>");
    int rank = 0;
    for (HostStatus h : shown) row(out, h, now, rank++);
    out.append("</tbody></table>");
    if (hosts.isEmpty()) {
      out.append("<p class=\"empty\">No host is enrolled yet. Create an enrollment token with the admin API "
          + "(<code>POST /api/v1/enrollment-tokens</code>) and start an agent with it.</p>");
    }
  }

  private void row(StringBuilder out, HostStatus h, long now, int rank) {
    long snapAge = h.lastSnapshotAt() > 0 ? now - h.lastSnapshotAt() : Long.MAX_VALUE;
    out.append("<tr data-worst=\"").append(rank).append("\" data-name=\"");
    Html.esc(out, h.name().toLowerCase(Locale.ROOT)).append("\" data-state=\"").append(h.online() ? 1 : 0)
        .append("\" data-age=\"").append(snapAge).append("\" data-size=\"").append(h.repositorySizeBytes())
        .append("\" data-snapshots=\"").append(h.snapshots()).append("\" data-alerts=\"").append(h.openAlerts())
        .append("\" data-search=\"");
    Html.esc(out, h.name().toLowerCase(Locale.ROOT)).append(' ');
    Html.esc(out, h.os().toLowerCase(Locale.ROOT)).append("\"><td><a href=\"/ui/hosts/");
    Html.esc(out, h.id()).append("\">");
    Html.esc(out, h.name()).append("</a><small>");
    Html.esc(out, h.os()).append("</small></td>");
    out.append(h.online() ? "<td class=\"ok\">online</td>" : "<td class=\"bad\">offline</td>");
    out.append("<td class=\"").append(ageClass(h, now)).append("\">");
    if (h.lastSnapshotAt() > 0) {
      out.append(Html.age(now - h.lastSnapshotAt())).append(" ago");
    } else {
      out.append(h.live() ? "never" : "unknown");
    }
    out.append("</td>");
    for (JobKind k : KINDS) {
      Long at = h.lastJobAt().get(k);
      if (at == null) {
        out.append("<td class=\"none\">&#8212;</td>");
        continue;
      }
      String st = status(h, k, at);
      out.append("<td class=\"st-").append(st).append("\">").append(st).append("<small>")
          .append(Html.age(now - at)).append(" ago</small></td>");
    }
    out.append("<td>").append(h.repositorySizeBytes() >= 0 ? Html.bytes(h.repositorySizeBytes()) : "&#8212;")
        .append("</td><td>").append(h.snapshots() >= 0 ? Long.toString(h.snapshots()) : "&#8212;").append("</td>");
    out.append(h.openAlerts() > 0 ? "<td class=\"bad\">" : "<td class=\"ok\">").append(h.openAlerts())
        .append("</td></tr>");
  }

  /**
   * The last job's status as far as the fleet's memory tells it: {@code succeeded} when it was the last
   * success, {@code warning} for a backup that still made a snapshot, else {@code failed} (which includes
   * {@code cancelled}; the host page shows each job's exact status).
   */
  static String status(HostStatus h, JobKind k, long at) {
    Long ok = h.lastSuccessAt().get(k);
    if (ok != null && ok >= at) return "succeeded";
    if (k == JobKind.BACKUP && h.lastSnapshotAt() >= at) return "warning";
    return "failed";
  }

  private String ageClass(HostStatus h, long now) {
    if (h.lastSnapshotAt() <= 0) return h.live() ? "bad" : "none";
    long age = now - h.lastSnapshotAt();
    if (age > backupMaxAge.toMillis()) return "bad";
    if (age > backupMaxAge.toMillis() * 3 / 4) return "warn";
    return "ok";
  }

  /** No backup that made a snapshot within {@code alerts.backup-max-age} (or none at all). */
  private boolean stale(HostStatus h, long now) {
    return h.lastSnapshotAt() <= 0 || now - h.lastSnapshotAt() > backupMaxAge.toMillis();
  }

  private int badness(HostStatus h, long now) {
    return (h.openAlerts() > 0 ? 4 : 0) + (stale(h, now) ? 2 : 0) + (h.online() ? 0 : 1);
  }

  private Comparator<HostStatus> order(Sort sort, long now) {
    Comparator<HostStatus> byName = Comparator.comparing(HostStatus::name);
    Comparator<HostStatus> byAgeDesc = Comparator.comparingLong(
        (HostStatus h) -> h.lastSnapshotAt() > 0 ? h.lastSnapshotAt() : Long.MIN_VALUE);
    return switch (sort) {
      case WORST -> Comparator.comparingInt((HostStatus h) -> -badness(h, now)).thenComparing(byAgeDesc)
          .thenComparing(byName);
      case NAME -> byName;
      case STATE -> Comparator.comparing(HostStatus::online).thenComparing(byName);
      case AGE -> byAgeDesc.thenComparing(byName);
      case ALERTS -> Comparator.comparingInt((HostStatus h) -> -h.openAlerts()).thenComparing(byName);
      case SIZE -> Comparator.comparingLong((HostStatus h) -> -h.repositorySizeBytes()).thenComparing(byName);
      case SNAPSHOTS -> Comparator.comparingLong((HostStatus h) -> -h.snapshots()).thenComparing(byName);
    };
  }

  private static boolean matches(HostStatus h, String f) {
    return h.name().toLowerCase(Locale.ROOT).contains(f) || h.os().toLowerCase(Locale.ROOT).contains(f);
  }

  private static void th(StringBuilder out, Sort s, String label, String filter) {
    out.append("<th><a href=\"").append(pageUrl(s, filter)).append("\" data-sort=\"").append(s.key).append("\">")
        .append(label).append("</a></th>");
  }

  private static String pageUrl(Sort s, String filter) {
    String q = filter == null || filter.isEmpty() ? "" : "q=" + Html.esc(urlEncode(filter));
    if (s == Sort.WORST) return q.isEmpty() ? "/" : "/?" + q;
    return "/?sort=" + s.key + (q.isEmpty() ? "" : "&amp;" + q);
  }

  private static String fragmentUrl(Sort s, String filter) {
    String q = filter == null || filter.isEmpty() ? "" : "&amp;q=" + Html.esc(urlEncode(filter));
    return "/?fragment=1&amp;sort=" + s.key + q;
  }

  static String urlEncode(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
