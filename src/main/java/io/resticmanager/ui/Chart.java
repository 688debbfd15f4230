package io.resticmanager.ui;

import io.resticmanager.store.JobRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The host page's chart as inline SVG: two strips over the same time axis (the last {@code span}), one bar per
 * finished backup for its duration (coloured by status) and one for the data it added. Presentation through CSS
 * classes only (the page's Content-Security-Policy allows no inline style); a {@code <title>} per bar for hover.
 */
final class Chart {
  private static final int W = 720;
  private static final int H = 90;
  private static final int LEFT = 70;

  private Chart() {}

  static void backups(StringBuilder out, List<JobRow> backups, long now, long span) {
    List<JobRow> shown = new ArrayList<>();
    double maxDuration = 0;
    long maxAdded = 0;
    for (JobRow j : backups) {
      if (j.status() == null || j.finishedAt() <= 0 || j.startedAt() < now - span) continue;
      shown.add(j);
      if (j.durationSeconds() != null) maxDuration = Math.max(maxDuration, j.durationSeconds());
      maxAdded = Math.max(maxAdded, HostPage.dataAdded(j.summaryJson()));
    }
    if (shown.isEmpty()) {
      out.append("<p class=\"empty\">No finished backup in the last 30 days.</p>");
      return;
    }
    out.append("<svg class=\"chart\" id=\"chart\" viewBox=\"0 0 ").append(W).append(' ').append(2 * H + 40)
        .append("\" role=\"img\" aria-label=\"Backup durations and data added, last 30 days\">");
    strip(out, 0, "duration, max " + Html.seconds(maxDuration));
    strip(out, H + 20, "added, max " + Html.bytes(maxAdded));
    for (JobRow j : shown) {
      double x = LEFT + (W - LEFT - 4) * (double) (j.startedAt() - (now - span)) / span;
      double d = j.durationSeconds() == null ? 0 : j.durationSeconds();
      long added = Math.max(0, HostPage.dataAdded(j.summaryJson()));
      double hd = maxDuration > 0 ? Math.max(1, (H - 4) * d / maxDuration) : 1;
      double ha = maxAdded > 0 ? Math.max(1, (H - 4) * (double) added / maxAdded) : 1;
      String title = Html.esc(j.kind().wire() + " " + j.status().wire() + " at "
          + java.time.Instant.ofEpochMilli(j.startedAt()) + ": " + Html.seconds(d) + ", " + Html.bytes(added) + " added");
      rect(out, x, H - hd, hd, "bar st-" + HostPage.statusClass(j.status()), title);
      rect(out, x, 2 * H + 20 - ha, ha, "bar added", title);
    }
    out.append("<text class=\"axis\" x=\"").append(LEFT).append("\" y=\"").append(2 * H + 36)
        .append("\">30 days ago</text><text class=\"axis end\" x=\"").append(W - 4).append("\" y=\"")
        .append(2 * H + 36).append("\">now</text></svg>");
  }

  private static void strip(StringBuilder out, int y, String label) {
    out.append("<rect class=\"strip\" x=\"").append(LEFT).append("\" y=\"").append(y).append("\" width=\"")
        .append(W - LEFT).append("\" height=\"").append(H).append("\"/><text class=\"axis\" x=\"").append(LEFT + 4)
        .append("\" y=\"").append(y + 14).append("\">");
    Html.esc(out, label).append("</text>");
  }

  private static void rect(StringBuilder out, double x, double y, double h, String cls, String title) {
    out.append("<rect class=\"").append(cls).append("\" x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y))
        .append("\" width=\"3\" height=\"").append(fmt(h)).append("\"><title>").append(title).append("</title></rect>");
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
