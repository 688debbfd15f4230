package io.resticmanager.ui;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The status page's HTML helpers: the one escaping function every value from agents or the database goes
 * through ({@link #esc}), the page frame (head, navigation, logout form), and formatting of ages, times and
 * sizes. Pure functions of their arguments; no Pekko.
 */
public final class Html {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  private Html() {}

  /**
   * Appends {@code s} escaped for HTML text and double-quoted attribute values: {@code & < > " '} become
   * entities, and control characters other than tab and newline are dropped. {@code null} appends nothing.
   */
  public static StringBuilder esc(StringBuilder out, String s) {
    if (s == null) return out;
    int n = s.length();
    int start = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      String rep;
      switch (c) {
        case '&' -> rep = "&amp;";
        case '<' -> rep = "&lt;";
        case '>' -> rep = "&gt;";
        case '"' -> rep = "&quot;";
        case '\'' -> rep = "&#39;";
        default -> rep = c < 0x20 && c != '\t' && c != '\n' || c == 0x7f ? "" : null;
      }
      if (rep != null) {
        out.append(s, start, i).append(rep);
        start = i + 1;
      }
    }
    return out.append(s, start, n);
  }

  /** {@link #esc(StringBuilder, String)} into a new string. */
  public static String esc(String s) {
    return esc(new StringBuilder(s == null ? 0 : s.length() + 16), s).toString();
  }

  /** What the navigation marks as the current page. */
  public enum Nav { FLEET, ALERTS, NONE }

  /**
   * Opens a page: doctype, head with the stylesheet and script (by their versioned URLs), the navigation with
   * a logout form carrying {@code csrf} (null: no navigation, as on the login page), and {@code <main>}.
   */
  public static void open(StringBuilder out, String title, Assets assets, Nav nav, String csrf) {
    out.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<meta name=\"referrer\" content=\"no-referrer\"><title>");
    esc(out, title).append(" · restic-manager</title><link rel=\"stylesheet\" href=\"")
        .append(assets.url("app.css")).append("\"><script src=\"").append(assets.url("app.js"))
        .append("\" defer></script></head><body>");
    if (csrf != null) {
      out.append("<header class=\"top\"><a class=\"brand\" href=\"/\">restic-manager</a><nav>")
          .append("<a href=\"/\"").append(nav == Nav.FLEET ? " class=\"current\"" : "").append(">Fleet</a>")
          .append("<a href=\"/ui/alerts\"").append(nav == Nav.ALERTS ? " class=\"current\"" : "")
          .append(">Alerts</a></nav><form class=\"logout\" method=\"post\" action=\"/ui/logout\">");
      csrfField(out, csrf);
      out.append("<button type=\"submit\">Log out</button></form></header>");
    }
    out.append("<main>");
  }

  public static void close(StringBuilder out) {
    out.append("</main></body></html>\n");
  }

  /** The hidden form field every state-changing form carries. */
  public static void csrfField(StringBuilder out, String csrf) {
    out.append("<input type=\"hidden\" name=\"csrf\" value=\"");
    esc(out, csrf).append("\">");
  }

  /** {@code 2026-12-05 21:00:00 UTC} inside a {@code <time>} element; "never" for 0. */
  public static void time(StringBuilder out, long epochMillis) {
    if (epochMillis <= 0) {
      out.append("never");
      return;
    }
    Instant t = Instant.ofEpochMilli(epochMillis);
    out.append("<time datetime=\"").append(t).append("\">").append(TIME.format(t)).append("</time>");
  }

  /** An age such as {@code 45s}, {@code 12m}, {@code 3h 5m}, {@code 2d 4h}; negative ages count as 0. */
  public static String age(long millis) {
    long s = Math.max(0, millis / 1000);
    if (s < 60) return s + "s";
    long m = s / 60;
    if (m < 60) return m + "m";
    long h = m / 60;
    if (h < 48) return h + "h " + (m % 60) + "m";
    return (h / 24) + "d " + (h % 24) + "h";
  }

  /** A duration in seconds as {@code 1.5s}, {@code 2m 3s}, {@code 1h 2m}. */
  public static String seconds(double sec) {
    if (sec < 60) return String.format(java.util.Locale.ROOT, "%.1fs", sec);
    long s = Math.round(sec);
    if (s < 3600) return (s / 60) + "m " + (s % 60) + "s";
    return (s / 3600) + "h " + ((s % 3600) / 60) + "m";
  }

  /** Bytes in binary units with one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 20.0 GiB}. */
  public static String bytes(long b) {
    if (b < 1024) return b + " B";
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (u < units.length - 1 && b >= 1024L << (10 * (u + 1))) u++;
    long unit = 1024L << (10 * u);
    long tenths = Math.round(b * 10.0 / unit);
    return tenths / 10 + "." + tenths % 10 + " " + units[u];
  }
}
