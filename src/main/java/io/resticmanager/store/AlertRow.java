package io.resticmanager.store;

import io.resticmanager.fleet.AlertKind;

/** A stored alert. Times are epoch millis; {@code acknowledgedAt} and {@code resolvedAt} are 0 when unset. */
public record AlertRow(
    String id,
    String hostId,
    AlertKind kind,
    boolean open,
    long raisedAt,
    long acknowledgedAt,
    long resolvedAt,
    String message) {}
