package io.resticmanager.fleet;

import io.resticmanager.cluster.CborSerializable;

/**
 * A host as the API shows it. Times are epoch millis; {@code lastSeenAt} 0 means never. The reply of
 * {@link HostEntity.GetHost} for an enrolled host, and what node views answer each other for the list.
 */
public record HostView(String id, String name, boolean online, long lastSeenAt, String agentVersion,
    String resticVersion, String os, long enrolledAt) implements HostEntity.HostReply {

  /** The same host seen as offline, as the store last knew it. */
  public static HostView offline(io.resticmanager.store.HostRow r) {
    return new HostView(r.id(), r.name(), false, r.lastSeenAt(), r.agentVersion(), r.resticVersion(), r.os(),
        r.enrolledAt());
  }
}
