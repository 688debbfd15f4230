package io.resticmanager.agents;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * One message of the agent wire protocol v1 (CONTRACT §4), as a plain Java value: one record per frame
 * type, split by direction into {@link FromAgent} and {@link FromServer}. {@link WireCodec} turns frames
 * into JSON text and back; the WebSocket endpoint, the per-connection actor and the agent program use
 * these records and never see JSON.
 *
 * <p>Records only reject nulls and non-finite numbers and truncate the two free-text fields; range checks
 * on untrusted input (counts, lengths, host names) are the decoder's job and never happen here.
 */
public sealed interface Frame permits Frame.FromAgent, Frame.FromServer {

  /** The protocol version this build speaks. */
  int PROTOCOL_VERSION = 1;

  /** Longest kept {@code error} of {@code job.finished} and {@code message} of {@code error}, in chars. */
  int MAX_TEXT_CHARS = 16 * 1024;

  /** The frame's {@code type} on the wire. */
  String type();

  /** A frame an agent sends to the server. */
  sealed interface FromAgent extends Frame
      permits Hello, Heartbeat, JobStarted, JobProgress, JobFinished, RepositoryStats {}

  /** A frame the server sends to an agent. */
  sealed interface FromServer extends Frame permits Welcome, Ack, ErrorFrame, CommandRun {}

  /** First frame of every connection: who the agent is. */
  record Hello(int protocolVersion, String agentVersion, String resticVersion, String hostname, String os)
      implements FromAgent {
    public static final String TYPE = "hello";

    public Hello {
      Objects.requireNonNull(agentVersion, "agentVersion");
      Objects.requireNonNull(resticVersion, "resticVersion");
      Objects.requireNonNull(hostname, "hostname");
      Objects.requireNonNull(os, "os");
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** Liveness signal; carries nothing. */
  record Heartbeat() implements FromAgent {
    public static final String TYPE = "heartbeat";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A job began on the agent. */
  record JobStarted(UUID jobId, JobKind kind, Instant startedAt) implements FromAgent {
    public static final String TYPE = "job.started";

    public JobStarted {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(startedAt, "startedAt");
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** Latest progress of a running job; {@code percentDone} is a fraction in [0, 1] as restic reports it. */
  record JobProgress(UUID jobId, double percentDone, long bytesDone, long filesDone) implements FromAgent {
    public static final String TYPE = "job.progress";

    public JobProgress {
      Objects.requireNonNull(jobId, "jobId");
      requireFinite(percentDone, "percentDone");
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * A job ended. {@code error} is restic's stderr tail, cut to {@link #MAX_TEXT_CHARS}; {@code summary}
   * is restic's backup summary when there is one.
   */
  record JobFinished(
      UUID jobId,
      JobStatus status,
      Instant finishedAt,
      int exitCode,
      Optional<String> error,
      Optional<BackupSummary> summary)
      implements FromAgent {
    public static final String TYPE = "job.finished";

    public JobFinished {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(finishedAt, "finishedAt");
      Objects.requireNonNull(error, "error");
      Objects.requireNonNull(summary, "summary");
      error = error.map(Frame::truncate);
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** restic's backup summary; byte counts in bytes, {@code totalDuration} in seconds. */
  record BackupSummary(
      long filesNew,
      long filesChanged,
      long filesUnmodified,
      long dataAdded,
      long totalFilesProcessed,
      long totalBytesProcessed,
      double totalDuration,
      String snapshotId) {

    public BackupSummary {
      requireFinite(totalDuration, "totalDuration");
      Objects.requireNonNull(snapshotId, "snapshotId");
    }
  }

  /**
   * The host's repository as restic saw it at {@code collectedAt}: how many snapshots it holds, the bytes
   * it stores ({@code restic stats --mode raw-data}) and, when restic reports it, their uncompressed size.
   * Not acknowledged: the agent sends its latest again after every {@code welcome}.
   */
  record RepositoryStats(Instant collectedAt, long snapshotCount, long totalSizeBytes,
      OptionalLong totalUncompressedSizeBytes) implements FromAgent {
    public static final String TYPE = "repository.stats";

    public RepositoryStats {
      Objects.requireNonNull(collectedAt, "collectedAt");
      Objects.requireNonNull(totalUncompressedSizeBytes, "totalUncompressedSizeBytes");
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** Answer to {@code hello}: the host's id and how often to send {@code heartbeat}. */
  record Welcome(String hostId, String serverVersion, int heartbeatIntervalSeconds) implements FromServer {
    public static final String TYPE = "welcome";

    public Welcome {
      Objects.requireNonNull(hostId, "hostId");
      Objects.requireNonNull(serverVersion, "serverVersion");
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** The frame of type {@code of} for {@code jobId} is durably stored; the agent may forget it. */
  record Ack(String of, UUID jobId) implements FromServer {
    public static final String TYPE = "ack";

    public Ack {
      Objects.requireNonNull(of, "of");
      Objects.requireNonNull(jobId, "jobId");
    }

    /** Acknowledges a stored {@code job.started}. */
    public static Ack started(UUID jobId) {
      return new Ack(JobStarted.TYPE, jobId);
    }

    /** Acknowledges a stored {@code job.finished}. */
    public static Ack finished(UUID jobId) {
      return new Ack(JobFinished.TYPE, jobId);
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * A frame the server could not accept; the connection stays open. {@code message} is cut to
   * {@link #MAX_TEXT_CHARS}.
   */
  record ErrorFrame(String code, String message, Optional<UUID> jobId) implements FromServer {
    public static final String TYPE = "error";

    public static final String BAD_JSON = "bad_json";
    public static final String UNKNOWN_TYPE = "unknown_type";
    public static final String INVALID_FIELD = "invalid_field";
    public static final String UNKNOWN_KIND = "unknown_kind";
    public static final String UNKNOWN_STATUS = "unknown_status";
    public static final String UNKNOWN_JOB = "unknown_job";
    public static final String HELLO_REQUIRED = "hello_required";

    public ErrorFrame {
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(jobId, "jobId");
      message = truncate(message);
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * Run a job of {@code kind} now, under the server-chosen {@code jobId}. {@code restore} says what a
   * restore job restores; it is empty for other kinds, and for a restore from a server that sends no
   * target (the agent then reports the job failed).
   */
  record CommandRun(UUID jobId, JobKind kind, Optional<RestoreSpec> restore) implements FromServer {
    public static final String TYPE = "command.run";

    public CommandRun {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(restore, "restore");
    }

    /** A command for a kind other than restore. */
    public CommandRun(UUID jobId, JobKind kind) {
      this(jobId, kind, Optional.empty());
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  private static void requireFinite(double d, String name) {
    if (!Double.isFinite(d)) throw new IllegalArgumentException(name + " must be finite: " + d);
  }

  /** Keeps the first {@link #MAX_TEXT_CHARS} chars without splitting a surrogate pair. */
  private static String truncate(String s) {
    if (s.length() <= MAX_TEXT_CHARS) return s;
    int end = MAX_TEXT_CHARS;
    if (Character.isHighSurrogate(s.charAt(end - 1)) && Character.isLowSurrogate(s.charAt(end))) end--;
    return s.substring(0, end);
  }
}
