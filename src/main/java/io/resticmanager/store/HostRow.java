package io.resticmanager.store;

/** A stored host. {@code lastSeenAt} is epoch millis, 0 when never seen; versions are "" when unknown. */
public record HostRow(
    String id, String name, long enrolledAt, long lastSeenAt, String agentVersion, String resticVersion, String os) {}
