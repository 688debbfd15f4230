package io.resticmanager.store;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;

/**
 * A stored job. {@code status} is null while running; {@code finishedAt} is 0 then. {@code summaryJson}
 * is restic's backup summary as JSON text, or null. Times are epoch millis.
 */
public record JobRow(
    String id,
    String hostId,
    JobKind kind,
    JobStatus status,
    long startedAt,
    long finishedAt,
    Double durationSeconds,
    Integer exitCode,
    String error,
    String summaryJson) {}
