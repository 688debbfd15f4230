package io.resticmanager.store;

/**
 * A host's latest repository statistics as its agent reported them: when they were collected (epoch
 * millis), the snapshot count, the stored bytes and the uncompressed bytes ({@code null} when restic did
 * not report them).
 */
public record RepositoryStatsRow(long collectedAt, long snapshotCount, long totalSizeBytes,
    Long totalUncompressedSizeBytes) {}
