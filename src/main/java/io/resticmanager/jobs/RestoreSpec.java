package io.resticmanager.jobs;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a {@code restore} job restores: the snapshot ({@code latest} or a restic snapshot id), the
 * directory it is restored into, and optionally only some paths of it (restic's {@code --include}).
 * Built by the admin API from a request and by the agent from {@code command.run}; both ask
 * {@link #problem()} before going on, so restic is only ever given what the rules below allow.
 *
 * <p>The record holds what it was given; it never judges it (an agent must be able to report an invalid
 * restore as failed rather than refuse to read it).
 */
public record RestoreSpec(String snapshotId, String target, List<String> include) {

  /** restic's name for the newest snapshot of the repository; the default. */
  public static final String LATEST = "latest";
  /** Longest {@code target} or {@code include} path, in chars (Linux's PATH_MAX). */
  public static final int MAX_PATH_CHARS = 4096;
  /** Most {@code include} paths of one restore. */
  public static final int MAX_INCLUDES = 100;

  private static final Pattern SNAPSHOT_ID = Pattern.compile("[0-9a-f]{8,64}");

  public RestoreSpec {
    Objects.requireNonNull(snapshotId, "snapshotId");
    Objects.requireNonNull(target, "target");
    include = List.copyOf(include);
  }

  /**
   * Why restic must not be given this restore, as {@code invalid field "<name>": <why>}; empty when it
   * may. The snapshot is {@code latest} or 8 to 64 lower-case hex digits (a restic id or a prefix of
   * one); {@code target} and every {@code include} are absolute paths of at most {@value #MAX_PATH_CHARS}
   * chars, without NUL and without {@code .} or {@code ..} segments; at most {@value #MAX_INCLUDES}
   * includes.
   */
  public Optional<String> problem() {
    if (!snapshotId.equals(LATEST) && !SNAPSHOT_ID.matcher(snapshotId).matches()) {
      return invalid("snapshot_id", "must be \"latest\" or a snapshot id of 8 to 64 lower-case hex digits");
    }
    Optional<String> t = pathProblem(target).flatMap(why -> invalid("target", why));
    if (t.isPresent()) return t;
    if (include.size() > MAX_INCLUDES) return invalid("include", "more than " + MAX_INCLUDES + " paths");
    for (String p : include) {
      Optional<String> i = pathProblem(p).flatMap(why -> invalid("include", why));
      if (i.isPresent()) return i;
    }
    return Optional.empty();
  }

  private static Optional<String> pathProblem(String p) {
    if (!p.startsWith("/")) return Optional.of("must be an absolute path");
    if (p.length() > MAX_PATH_CHARS) return Optional.of("longer than " + MAX_PATH_CHARS + " chars");
    if (p.indexOf('\0') >= 0) return Optional.of("must not contain NUL");
    for (String segment : p.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) return Optional.of("must not contain '.' or '..' segments");
    }
    return Optional.empty();
  }

  private static Optional<String> invalid(String field, String why) {
    return Optional.of("invalid field \"" + field + "\": " + why);
  }
}
