package io.resticmanager.ui;

import io.resticmanager.store.AlertRow;
import java.util.List;
import java.util.Map;

/**
 * The alerts page ({@code GET /ui/alerts}): the open alerts (each with an acknowledge button until acknowledged)
 * and the most recently raised resolved ones, newest first. The host page shows its own alerts with
 * {@link #table}. Host names come from one read of the hosts table.
 */
public final class AlertsPage {
  private AlertsPage() {}

  public static String page(List<AlertRow> open, List<AlertRow> resolved, Map<String, String> names, long now,
      String message, Assets assets, String csrf) {
    StringBuilder out = new StringBuilder(8 * 1024);
    Html.open(out, "Alerts", assets, Html.Nav.ALERTS, csrf);
    out.append("<div class=\"bar\"><h1>Alerts</h1></div><p id=\"message\" class=\"message\" role=\"status\">");
    if (message != null) Html.esc(out, message);
    out.append("</p><div id=\"live\" data-refresh=\"/ui/alerts?fragment=1\">");
    fragment(out, open, resolved, names, now, csrf);
    out.append("</div>");
    Html.close(out);
    return out.toString();
  }

  public static void fragment(StringBuilder out, List<AlertRow> open, List<AlertRow> resolved,
      Map<String, String> names, long now, String csrf) {
    out.append("<h2>Open</h2>");
    table(out, open, names, now, csrf, "/ui/alerts");
    out.append("<h2>Resolved</h2>");
    table(out, resolved, names, now, csrf, "/ui/alerts");
  }

  /**
   * A table of alerts; {@code names} null leaves out the host column. The acknowledge form returns to
   * {@code back} (a path this server made).
   */
  static void table(StringBuilder out, List<AlertRow> alerts, Map<String, String> names, long now, String csrf,
      String back) {
    if (alerts.isEmpty()) {
      out.append("<p class=\"empty\">None.</p>");
      return;
    }
    out.append("<table class=\"alerts\"><thead><tr>");
    if (names != null) out.append("<th>Host</th>");
    out.append("<th>Kind</th><th>Severity</th><th>Raised</th><th>Message</th><th>State</th></tr></thead><tbody>");
    for (AlertRow a : alerts) {
      out.append("<tr class=\"alert\" data-alert=\"");
      Html.esc(out, a.id()).append("\">");
      if (names != null) {
        out.append("<td><a href=\"/ui/hosts/");
        Html.esc(out, a.hostId()).append("\">");
        Html.esc(out, names.getOrDefault(a.hostId(), a.hostId())).append("</a></td>");
      }
      out.append("<td>").append(a.kind().wire()).append("</td><td class=\"sev-").append(a.kind().severity().wire())
          .append("\">").append(a.kind().severity().wire()).append("</td><td>").append(Html.age(now - a.raisedAt()))
          .append(" ago<small>");
      Html.time(out, a.raisedAt());
      out.append("</small></td><td>");
      Html.esc(out, a.message()).append("</td><td>");
      if (!a.open()) {
        out.append("resolved ").append(Html.age(now - a.resolvedAt())).append(" ago");
      } else if (a.acknowledgedAt() > 0) {
        out.append("<span class=\"acked\">acknowledged</span> ").append(Html.age(now - a.acknowledgedAt()))
            .append(" ago");
      } else {
        out.append("<form method=\"post\" data-async action=\"/ui/alerts/");
        Html.esc(out, a.id()).append("/ack\">");
        Html.csrfField(out, csrf);
        out.append("<input type=\"hidden\" name=\"back\" value=\"");
        Html.esc(out, back).append("\"><button type=\"submit\" class=\"ack\">Acknowledge</button></form>");
      }
      out.append("</td></tr>");
    }
    out.append("</tbody></table>");
  }
}
