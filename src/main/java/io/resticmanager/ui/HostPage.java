package io.resticmanager.ui;

import io.resticmanager.fleet.HostView;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.JobRow;
import io.resticmanager.store.Page;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One host's page ({@code GET /ui/hosts/{id}}): its state and versions, run-job buttons, its alerts with an
 * acknowledge button, a server-rendered SVG chart of its backups of the last 30 days (duration and data added),
 * and its jobs newest first, paged with the jobs API's cursor. Everything below the heading is the live region
 * ({@link #fragment}).
 */
public final class HostPage {
  static final long CHART_SPAN_MILLIS = 30L * 24 * 3600 * 1000;
  private static final Pattern DATA_ADDED = Pattern.compile("\"data_added\"\\s*:\\s*(\\d{1,19})");

  /** What the host page shows; {@code before} is the cursor of the jobs page shown, if not the first. */
  public record Data(HostView host, Page<JobRow> jobs, List<JobRow> backups, List<AlertRow> alerts,
      Optional<String> before) {}

  private HostPage() {}

  public static String page(Data d, long now, String message, Assets assets, String csrf) {
    StringBuilder out = new StringBuilder(16 * 1024);
    Html.open(out, d.host().name(), assets, Html.Nav.NONE, csrf);
    out.append("<div class=\"bar\"><h1>");
    Html.esc(out, d.host().name()).append("</h1></div>");
    out.append("<p id=\"message\" class=\"message\" role=\"status\">");
    if (message != null) Html.esc(out, message);
    out.append("</p>");
    out.append("<div id=\"live\" data-refresh=\"/ui/hosts/");
    Html.esc(out, d.host().id()).append("?fragment=1");
    d.before().ifPresent(b -> Html.esc(out.append("&amp;before="), FleetPage.urlEncode(b)));
    out.append("\">");
    fragment(out, d, now, csrf);
    out.append("</div>");
    Html.close(out);
    return out.toString();
  }

  public static void fragment(StringBuilder out, Data d, long now, String csrf) {
    HostView h = d.host();
    out.append("<dl class=\"facts\"><dt>State</dt><dd class=\"").append(h.online() ? "ok\">online" : "bad\">offline")
        .append("</dd><dt>Last seen</dt><dd>");
    if (h.lastSeenAt() > 0) out.append(Html.age(now - h.lastSeenAt())).append(" ago (");
    Html.time(out, h.lastSeenAt());
    if (h.lastSeenAt() > 0) out.append(')');
    out.append("</dd><dt>OS</dt><dd>");
    Html.esc(out, h.os()).append("</dd><dt>Agent</dt><dd>");
    Html.esc(out, h.agentVersion()).append("</dd><dt>restic</dt><dd>");
    Html.esc(out, h.resticVersion()).append("</dd><dt>Enrolled</dt><dd>");
    Html.time(out, h.enrolledAt());
    out.append("</dd></dl>");

    out.append("<div class=\"actions\">");
    for (JobKind k : new JobKind[] {JobKind.BACKUP, JobKind.CHECK}) {
      out.append("<form method=\"post\" data-async action=\"/ui/hosts/");
      Html.esc(out, h.id()).append("/jobs\">");
      Html.csrfField(out, csrf);
      out.append("<input type=\"hidden\" name=\"kind\" value=\"").append(k.wire()).append("\">")
          .append("<button type=\"submit\" id=\"run-").append(k.wire()).append("\">Run ").append(k.wire())
          .append(" now</button></form>");
    }
    out.append("</div>");

    out.append("<h2>Alerts</h2>");
    AlertsPage.table(out, d.alerts(), null, now, csrf, "/ui/hosts/" + h.id());

    out.append("<h2>Backups, last 30 days</h2>");
    Chart.backups(out, d.backups(), now, CHART_SPAN_MILLIS);

    out.append("<h2>Jobs</h2>");
    if (d.jobs().rows().isEmpty()) {
      out.append("<p class=\"empty\">No jobs").append(d.before().isPresent() ? " before these." : " yet.")
          .append("</p>");
    } else {
      out.append("<table class=\"jobs\" id=\"jobs\"><thead><tr><th>Started</th><th>Kind</th><th>Status</th>")
          .append("<th>Duration</th><th>Exit</th><th>Error</th><th>Summary</th></tr></thead><tbody>");
      for (JobRow j : d.jobs().rows()) job(out, j, now);
      out.append("</tbody></table>");
    }
    out.append("<p class=\"pager\">");
    if (d.before().isPresent()) {
      out.append("<a href=\"/ui/hosts/");
      Html.esc(out, h.id()).append("\">Newest jobs</a>");
    }
    if (d.jobs().next().isPresent()) {
      out.append("<a href=\"/ui/hosts/");
      Html.esc(out, h.id()).append("?before=").append(d.jobs().next().get().encode()).append("\">Older jobs</a>");
    }
    out.append("</p>");
  }

  private static void job(StringBuilder out, JobRow j, long now) {
    String status = j.status() == null ? "running" : j.status().wire();
    out.append("<tr class=\"job\" data-job=\"");
    Html.esc(out, j.id()).append("\"><td>");
    Html.time(out, j.startedAt());
    out.append("</td><td>").append(j.kind().wire()).append("</td><td class=\"st-").append(status).append("\">")
        .append(status).append("</td><td>");
    if (j.durationSeconds() != null) out.append(Html.seconds(j.durationSeconds()));
    else if (j.status() == null) out.append(Html.age(now - j.startedAt())).append(" so far");
    out.append("</td><td>").append(j.exitCode() == null ? "" : j.exitCode().toString()).append("</td><td class=\"error\">");
    Html.esc(out, j.error()).append("</td><td>");
    summary(out, j.summaryJson());
    out.append("</td></tr>");
  }

  /** restic's summary as its own JSON text, escaped; long summaries are cut. */
  private static void summary(StringBuilder out, String json) {
    if (json == null || json.isEmpty()) return;
    String s = json.length() > 400 ? json.substring(0, 400) + "…" : json;
    out.append("<code class=\"summary\">");
    Html.esc(out, s).append("</code>");
  }

  /** {@code data_added} of a backup's summary; -1 when absent. */
  static long dataAdded(String summaryJson) {
    if (summaryJson == null) return -1;
    Matcher m = DATA_ADDED.matcher(summaryJson);
    if (!m.find()) return -1;
    try {
      return Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The status class of a finished backup in the chart. */
  static String statusClass(JobStatus s) {
    return s == null ? "running" : s.wire().toLowerCase(Locale.ROOT);
  }
}
