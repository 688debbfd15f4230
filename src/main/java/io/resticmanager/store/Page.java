package io.resticmanager.store;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One page of a list read newest first, and the cursor that continues it when more rows remain. Lists
 * are ordered by a time, newest first, then by id; the cursor names the last row's time and id, so the
 * next page starts right after it however many rows were added or deleted meanwhile (keyset paging:
 * every page costs the same, and a row is never skipped or shown twice).
 */
public record Page<T>(List<T> rows, Optional<Cursor> next) {

  /** Where a page ends: the last row's time (epoch ms) and id. Opaque to clients. */
  public record Cursor(long at, String id) {
    private static final Pattern ID = Pattern.compile("[0-9A-Za-z-]{1,64}");

    /** The text clients pass back as {@code before}: URL-safe Base64 of {@code at:id}. */
    public String encode() {
      return Base64.getUrlEncoder().withoutPadding()
          .encodeToString((at + ":" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor a client passed back; empty when the text is not one this server made. */
    public static Optional<Cursor> decode(String text) {
      if (text.length() > 128) return Optional.empty();
      String plain;
      try {
        plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
      int colon = plain.indexOf(':');
      if (colon < 1 || !ID.matcher(plain.substring(colon + 1)).matches()) return Optional.empty();
      try {
        long at = Long.parseLong(plain.substring(0, colon));
        return at < 0 ? Optional.empty() : Optional.of(new Cursor(at, plain.substring(colon + 1)));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
  }

  /**
   * The page of at most {@code limit} rows out of {@code fetched}, which holds up to {@code limit + 1}
   * rows: the extra one only says that more remain.
   */
  static <T> Page<T> of(List<T> fetched, int limit, Function<T, Cursor> cursorOf) {
    if (fetched.size() <= limit) return new Page<>(fetched, Optional.empty());
    List<T> rows = List.copyOf(fetched.subList(0, limit));
    return new Page<>(rows, Optional.of(cursorOf.apply(rows.get(limit - 1))));
  }

  /**
   * The SQL condition for rows after {@code cursor} in newest-first order ({@code ORDER BY timeColumn DESC,
   * id DESC}); binds the cursor's time, its time again and its id. Written as a range on the time so that
   * an index on (time, id) serves it.
   */
  static String afterCondition(String timeColumn) {
    return "(" + timeColumn + " <= ? AND (" + timeColumn + " < ? OR id < ?))";
  }
}
