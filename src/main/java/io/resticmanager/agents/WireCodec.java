package io.resticmanager.agents;

import io.resticmanager.agents.Frame.Ack;
import io.resticmanager.agents.Frame.BackupSummary;
import io.resticmanager.agents.Frame.CommandRun;
import io.resticmanager.agents.Frame.ErrorFrame;
import io.resticmanager.agents.Frame.Heartbeat;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.agents.Frame.Welcome;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import scala.Option;
import spray.json.JsArray;
import spray.json.JsNull$;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsString;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * Turns {@link Frame}s into JSON text and back, for both directions of protocol v1 (CONTRACT §4). Used by
 * the server's per-connection actor (decodes agent frames, encodes its answers) and by the agent program
 * (the other way round). spray-json stays inside this class.
 *
 * <p>{@link #decode} never throws and never recurses deeper than {@link #MAX_DEPTH}: any text, however
 * hostile, becomes {@link Decoded.Ok} or {@link Decoded.Bad} with a contract error code, and the Bad
 * carries the frame's {@code job_id} whenever that could be read. Unknown fields are ignored. It never
 * judges what a valid frame means (which protocol version is spoken, whether a job exists): the caller does.
 */
public final class WireCodec {

  /** Longest text {@link #decode} looks at; the transport closes with 1009 above 1 MiB anyway. */
  public static final int MAX_FRAME_CHARS = 1 << 20;

  /** Deepest array/object nesting accepted; a valid frame needs 2. */
  public static final int MAX_DEPTH = 32;

  static final int MAX_HOSTNAME = 253;
  static final int MAX_VERSION = 100;
  static final int MAX_OS = 200;
  static final int MAX_SNAPSHOT_ID = 128;
  static final int MAX_HOST_ID = 100;
  static final int MAX_CODE = 64;
  static final int MAX_TIMESTAMP = 64;
  static final int MAX_HEARTBEAT_SECONDS = 3600;
  /** Float noise tolerated around restic's 0..1 progress fraction before it counts as out of range. */
  static final double PERCENT_SLACK = 1e-6;
  private static final int MAX_ECHO = 64;

  private WireCodec() {}

  /** The outcome of {@link #decode}: a frame, or why there is none. */
  public sealed interface Decoded {

    /** The text was a valid frame. */
    record Ok(Frame frame) implements Decoded {
      public Ok {
        Objects.requireNonNull(frame, "frame");
      }
    }

    /** The text was refused; {@code code} is a contract error code, {@code jobId} the frame's if readable. */
    record Bad(String code, String message, Optional<UUID> jobId) implements Decoded {
      public Bad {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(jobId, "jobId");
      }

      /** The {@code error} frame that reports this to the sender. */
      public ErrorFrame toErrorFrame() {
        return new ErrorFrame(code, message, jobId);
      }
    }
  }

  // ---------------------------------------------------------------- encode

  /** The frame as one compact JSON object, {@code type} first, absent optionals omitted. */
  public static String encode(Frame f) {
    Out o = new Out(f.type());
    if (f instanceof Hello h) {
      o.num("protocol_version", h.protocolVersion())
          .str("agent_version", h.agentVersion())
          .str("restic_version", h.resticVersion())
          .str("hostname", h.hostname())
          .str("os", h.os());
    } else if (f instanceof Heartbeat) {
      // type only
    } else if (f instanceof JobStarted s) {
      o.str("job_id", s.jobId().toString()).str("kind", s.kind().wire()).str("started_at", s.startedAt().toString());
    } else if (f instanceof JobProgress p) {
      o.str("job_id", p.jobId().toString())
          .num("percent_done", p.percentDone())
          .num("bytes_done", p.bytesDone())
          .num("files_done", p.filesDone());
    } else if (f instanceof JobFinished j) {
      o.str("job_id", j.jobId().toString())
          .str("status", j.status().wire())
          .str("finished_at", j.finishedAt().toString())
          .num("exit_code", j.exitCode());
      j.error().ifPresent(e -> o.str("error", e));
      j.summary().ifPresent(o::summary);
    } else if (f instanceof RepositoryStats r) {
      o.str("collected_at", r.collectedAt().toString())
          .num("snapshot_count", r.snapshotCount())
          .num("total_size_bytes", r.totalSizeBytes());
      r.totalUncompressedSizeBytes().ifPresent(v -> o.num("total_uncompressed_size_bytes", v));
    } else if (f instanceof Welcome w) {
      o.str("host_id", w.hostId())
          .str("server_version", w.serverVersion())
          .num("heartbeat_interval_seconds", w.heartbeatIntervalSeconds());
    } else if (f instanceof Ack a) {
      o.str("of", a.of()).str("job_id", a.jobId().toString());
    } else if (f instanceof ErrorFrame e) {
      o.str("code", e.code()).str("message", e.message());
      e.jobId().ifPresent(id -> o.str("job_id", id.toString()));
    } else if (f instanceof CommandRun c) {
      o.str("job_id", c.jobId().toString()).str("kind", c.kind().wire());
      c.restore().ifPresent(r -> {
        o.str("snapshot_id", r.snapshotId()).str("target", r.target());
        if (!r.include().isEmpty()) o.strings("include", r.include());
      });
    } else {
      throw new IllegalArgumentException("unknown frame " + f.getClass());
    }
    return o.end();
  }

  /** Appends members to one JSON object; keys are our own constants and need no escaping. */
  private static final class Out {
    private final StringBuilder sb = new StringBuilder(160);

    Out(String type) {
      sb.append("{\"type\":");
      quote(sb, type);
    }

    Out str(String key, String value) {
      key(key);
      quote(sb, value);
      return this;
    }

    Out strings(String key, List<String> values) {
      key(key);
      sb.append('[');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) sb.append(',');
        quote(sb, values.get(i));
      }
      sb.append(']');
      return this;
    }

    Out num(String key, long value) {
      key(key);
      sb.append(value);
      return this;
    }

    Out num(String key, double value) {
      key(key);
      sb.append(value);
      return this;
    }

    void summary(BackupSummary s) {
      key("summary");
      sb.append('{');
      int start = sb.length();
      num("files_new", s.filesNew())
          .num("files_changed", s.filesChanged())
          .num("files_unmodified", s.filesUnmodified())
          .num("data_added", s.dataAdded())
          .num("total_files_processed", s.totalFilesProcessed())
          .num("total_bytes_processed", s.totalBytesProcessed())
          .num("total_duration", s.totalDuration())
          .str("snapshot_id", s.snapshotId());
      sb.deleteCharAt(start); // the comma key() put before the first member
      sb.append('}');
    }

    private void key(String key) {
      sb.append(",\"").append(key).append("\":");
    }

    String end() {
      return sb.append('}').toString();
    }
  }

  /**
   * Appends {@code s} as a JSON string. Escapes quote, backslash, every char below U+0020 and lone
   * surrogates (which would otherwise turn into {@code ?} when the text is sent as UTF-8).
   */
  public static void quote(StringBuilder sb, String s) {
    sb.append('"');
    int n = s.length();
    int from = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      String esc;
      if (c == '"') {
        esc = "\\\"";
      } else if (c == '\\') {
        esc = "\\\\";
      } else if (c >= 0x20 && !Character.isSurrogate(c)) {
        continue;
      } else if (c == '\n') {
        esc = "\\n";
      } else if (c == '\r') {
        esc = "\\r";
      } else if (c == '\t') {
        esc = "\\t";
      } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
        continue;
      } else {
        esc = null;
      }
      sb.append(s, from, i);
      if (esc != null) {
        sb.append(esc);
      } else {
        sb.append("\\u").append(HEX[c >>> 12]).append(HEX[(c >>> 8) & 0xF]).append(HEX[(c >>> 4) & 0xF]).append(HEX[c & 0xF]);
      }
      from = i + 1;
    }
    sb.append(s, from, n).append('"');
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  // ---------------------------------------------------------------- decode

  /** Reads one frame of either direction. Never throws. */
  public static Decoded decode(String text) {
    try {
      return decodeUnguarded(text);
    } catch (RuntimeException e) {
      // Reached only through a bug in this class; tests drive decodeUnguarded so such bugs surface there.
      return new Decoded.Bad(ErrorFrame.BAD_JSON, "undecodable frame", Optional.empty());
    }
  }

  /** {@link #decode} without its last-resort catch. */
  static Decoded decodeUnguarded(String text) {
    if (text == null) return bad(ErrorFrame.BAD_JSON, "no text", Optional.empty());
    if (text.length() > MAX_FRAME_CHARS) {
      return bad(ErrorFrame.BAD_JSON, "frame longer than " + MAX_FRAME_CHARS + " chars", Optional.empty());
    }
    if (nestedTooDeep(text)) {
      return bad(ErrorFrame.BAD_JSON, "JSON nested deeper than " + MAX_DEPTH, Optional.empty());
    }
    JsValue root;
    try {
      root = JsonParser.apply(ParserInput.apply(text));
    } catch (JsonParser.ParsingException e) {
      return bad(ErrorFrame.BAD_JSON, "not JSON: " + firstLine(e.getMessage()), Optional.empty());
    } catch (NumberFormatException | ArithmeticException e) {
      return bad(ErrorFrame.BAD_JSON, "not JSON: unreadable number", Optional.empty());
    }
    if (!(root instanceof JsObject obj)) return bad(ErrorFrame.BAD_JSON, "not a JSON object", Optional.empty());

    Fields in = new Fields(obj, "");
    Optional<UUID> jobId = in.peekUuid("job_id");
    try {
      return new Decoded.Ok(frame(in));
    } catch (Refused r) {
      return bad(r.code, r.getMessage(), jobId);
    }
  }

  private static Frame frame(Fields in) {
    JsValue t = in.raw("type");
    if (t == null) throw new Refused(ErrorFrame.UNKNOWN_TYPE, "missing \"type\"");
    if (!(t instanceof JsString ts)) throw new Refused(ErrorFrame.UNKNOWN_TYPE, "\"type\" must be a string");
    String type = ts.value();
    switch (type) {
      case Hello.TYPE:
        return new Hello(
            in.integer("protocol_version", Integer.MIN_VALUE, Integer.MAX_VALUE),
            in.string("agent_version", 1, MAX_VERSION),
            in.string("restic_version", 0, MAX_VERSION),
            in.hostname("hostname"),
            in.string("os", 0, MAX_OS));
      case Heartbeat.TYPE:
        return new Heartbeat();
      case JobStarted.TYPE:
        return new JobStarted(in.uuid("job_id"), in.kind("kind"), in.instant("started_at"));
      case JobProgress.TYPE:
        return new JobProgress(
            in.uuid("job_id"), in.fraction("percent_done"), in.count("bytes_done"), in.count("files_done"));
      case JobFinished.TYPE:
        return new JobFinished(
            in.uuid("job_id"),
            in.status("status"),
            in.instant("finished_at"),
            in.integer("exit_code", Integer.MIN_VALUE, Integer.MAX_VALUE),
            in.optText("error"),
            in.optObject("summary").map(WireCodec::summary));
      case RepositoryStats.TYPE:
        return new RepositoryStats(in.instant("collected_at"), in.count("snapshot_count"),
            in.count("total_size_bytes"), in.optCount("total_uncompressed_size_bytes"));
      case Welcome.TYPE:
        return new Welcome(
            in.string("host_id", 1, MAX_HOST_ID),
            in.string("server_version", 1, MAX_VERSION),
            in.integer("heartbeat_interval_seconds", 1, MAX_HEARTBEAT_SECONDS));
      case Ack.TYPE:
        return new Ack(in.ackOf("of"), in.uuid("job_id"));
      case ErrorFrame.TYPE:
        return new ErrorFrame(in.string("code", 1, MAX_CODE), in.text("message"), in.optUuid("job_id"));
      case CommandRun.TYPE: {
        JobKind kind = in.kind("kind");
        return new CommandRun(in.uuid("job_id"), kind, kind == JobKind.RESTORE ? restore(in) : Optional.empty());
      }
      default:
        throw new Refused(ErrorFrame.UNKNOWN_TYPE, "unknown type \"" + echo(type) + "\"");
    }
  }

  /**
   * A restore's fields as sent; empty without {@code target} (a server that predates them). Only their
   * JSON types are checked here: what they say is judged by the agent, which reports a bad one as failed.
   */
  private static Optional<RestoreSpec> restore(Fields in) {
    if (in.raw("target") == null) return Optional.empty();
    String snapshot = in.raw("snapshot_id") == null ? RestoreSpec.LATEST : in.text("snapshot_id");
    return Optional.of(new RestoreSpec(snapshot, in.text("target"), in.optStrings("include")));
  }

  private static BackupSummary summary(Fields s) {
    return new BackupSummary(
        s.countOrZero("files_new"),
        s.countOrZero("files_changed"),
        s.countOrZero("files_unmodified"),
        s.countOrZero("data_added"),
        s.countOrZero("total_files_processed"),
        s.countOrZero("total_bytes_processed"),
        s.durationOrZero("total_duration"),
        s.stringOrEmpty("snapshot_id", MAX_SNAPSHOT_ID));
  }

  /** Typed, validating access to one JSON object's members; {@code prefix} names nested fields. */
  private static final class Fields {
    private final JsObject obj;
    private final String prefix;

    Fields(JsObject obj, String prefix) {
      this.obj = obj;
      this.prefix = prefix;
    }

    /** The member, or null when it is absent or JSON {@code null}. */
    JsValue raw(String name) {
      Option<JsValue> o = obj.fields().get(name);
      if (o.isEmpty()) return null;
      JsValue v = o.get();
      return v == JsNull$.MODULE$ ? null : v;
    }

    private JsValue required(String name) {
      JsValue v = raw(name);
      if (v == null) throw invalid(name, "missing");
      return v;
    }

    private Refused invalid(String name, String why) {
      return new Refused(ErrorFrame.INVALID_FIELD, "invalid field \"" + prefix + name + "\": " + why);
    }

    Optional<UUID> peekUuid(String name) {
      JsValue v = raw(name);
      return v instanceof JsString s ? parseUuid(s.value()) : Optional.empty();
    }

    UUID uuid(String name) {
      return parseUuid(jsString(name, required(name))).orElseThrow(() -> invalid(name, "not a UUID"));
    }

    Optional<UUID> optUuid(String name) {
      return raw(name) == null ? Optional.empty() : Optional.of(uuid(name));
    }

    private String jsString(String name, JsValue v) {
      if (v instanceof JsString s) return s.value();
      throw invalid(name, "must be a string");
    }

    String string(String name, int minLength, int maxLength) {
      String s = jsString(name, required(name));
      if (s.length() < minLength) throw invalid(name, "must not be empty");
      if (s.length() > maxLength) throw invalid(name, "longer than " + maxLength + " chars");
      return s;
    }

    String stringOrEmpty(String name, int maxLength) {
      return raw(name) == null ? "" : string(name, 0, maxLength);
    }

    /** Free text; the record cuts it to {@link Frame#MAX_TEXT_CHARS} rather than refusing it. */
    String text(String name) {
      return jsString(name, required(name));
    }

    Optional<String> optText(String name) {
      return raw(name) == null ? Optional.empty() : Optional.of(text(name));
    }

    String hostname(String name) {
      String s = string(name, 1, MAX_HOSTNAME);
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_';
        if (!ok) throw invalid(name, "not a host name (letters, digits, '-', '.', '_')");
      }
      return s;
    }

    /** An array of strings; absent is empty. */
    List<String> optStrings(String name) {
      JsValue v = raw(name);
      if (v == null) return List.of();
      if (!(v instanceof JsArray a)) throw invalid(name, "must be an array of strings");
      List<String> out = new ArrayList<>(a.elements().size());
      for (int i = 0; i < a.elements().size(); i++) {
        if (!(a.elements().apply(i) instanceof JsString s)) throw invalid(name, "must be an array of strings");
        out.add(s.value());
      }
      return out;
    }

    Optional<Fields> optObject(String name) {
      JsValue v = raw(name);
      if (v == null) return Optional.empty();
      if (v instanceof JsObject o) return Optional.of(new Fields(o, prefix + name + "."));
      throw invalid(name, "must be an object");
    }

    JobKind kind(String name) {
      String s = jsString(name, required(name));
      return JobKind.fromWire(s)
          .orElseThrow(() -> new Refused(ErrorFrame.UNKNOWN_KIND, "unknown kind \"" + echo(s) + "\""));
    }

    JobStatus status(String name) {
      String s = jsString(name, required(name));
      return JobStatus.fromWire(s)
          .orElseThrow(() -> new Refused(ErrorFrame.UNKNOWN_STATUS, "unknown status \"" + echo(s) + "\""));
    }

    String ackOf(String name) {
      String s = jsString(name, required(name));
      if (s.equals(JobStarted.TYPE)) return JobStarted.TYPE;
      if (s.equals(JobFinished.TYPE)) return JobFinished.TYPE;
      throw invalid(name, "must be \"job.started\" or \"job.finished\"");
    }

    Instant instant(String name) {
      return parseRfc3339(jsString(name, required(name)))
          .orElseThrow(() -> invalid(name, "not an RFC 3339 timestamp"));
    }

    private BigDecimal number(String name, JsValue v) {
      if (v instanceof JsNumber n) return n.value().bigDecimal();
      throw invalid(name, "must be a number");
    }

    /** An integral JSON number in [min, max]; {@code 5.0} and {@code 5e2} count as integers. */
    long integral(String name, JsValue v, long min, long max) {
      BigDecimal d = number(name, v);
      if (d.signum() < 0 && min >= 0) throw invalid(name, "must not be negative");
      if (d.signum() == 0) {
        if (min > 0) throw invalid(name, "out of range");
        return 0;
      }
      // precision - scale is the count of digits before the point: cheap even for 1e999999.
      if ((long) d.precision() - d.scale() > 19) throw invalid(name, "out of range");
      if (d.scale() > 0) {
        d = d.stripTrailingZeros();
        if (d.scale() > 0) throw invalid(name, "must be an integer");
      }
      long l;
      try {
        l = d.longValueExact();
      } catch (ArithmeticException e) {
        throw invalid(name, "out of range");
      }
      if (l < min || l > max) throw invalid(name, "out of range");
      return l;
    }

    int integer(String name, int min, int max) {
      return (int) integral(name, required(name), min, max);
    }

    long count(String name) {
      return integral(name, required(name), 0, Long.MAX_VALUE);
    }

    OptionalLong optCount(String name) {
      JsValue v = raw(name);
      return v == null ? OptionalLong.empty() : OptionalLong.of(integral(name, v, 0, Long.MAX_VALUE));
    }

    long countOrZero(String name) {
      JsValue v = raw(name);
      return v == null ? 0 : integral(name, v, 0, Long.MAX_VALUE);
    }

    private double real(String name, JsValue v) {
      BigDecimal d = number(name, v);
      if (d.signum() == 0) return 0.0;
      long magnitude = (long) d.precision() - d.scale();
      if (magnitude > 310) throw invalid(name, "out of range");
      if (magnitude < -330) return 0.0; // below the smallest double: it is zero to us
      double r = d.doubleValue();
      if (!Double.isFinite(r)) throw invalid(name, "out of range");
      return r;
    }

    /** restic's 0..1 progress fraction; float noise just outside the range is clamped. */
    double fraction(String name) {
      double d = real(name, required(name));
      if (d < -PERCENT_SLACK || d > 1 + PERCENT_SLACK) throw invalid(name, "must be between 0 and 1");
      return Math.min(1.0, Math.max(0.0, d));
    }

    double durationOrZero(String name) {
      JsValue v = raw(name);
      if (v == null) return 0.0;
      double d = real(name, v);
      if (d < 0) throw invalid(name, "must not be negative");
      return d;
    }
  }

  /** Why a parsed object is not a valid frame; carries no stack trace since it is expected and frequent. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String code;

    Refused(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  private static Decoded bad(String code, String message, Optional<UUID> jobId) {
    return new Decoded.Bad(code, message, jobId);
  }

  /**
   * True when arrays/objects nest deeper than {@link #MAX_DEPTH}. Runs before spray-json, whose parser
   * recurses once per level; brackets inside strings (escapes included) do not count.
   */
  public static boolean nestedTooDeep(String s) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') i++;
        else if (c == '"') inString = false;
      } else if (c == '"') {
        inString = true;
      } else if (c == '[' || c == '{') {
        if (++depth > MAX_DEPTH) return true;
      } else if (c == ']' || c == '}') {
        depth--;
      }
    }
    return false;
  }

  /**
   * RFC 3339 {@code date-time}: {@code yyyy-MM-ddTHH:mm:ss}, an optional fraction of 1 to 9 digits, then
   * {@code Z} or {@code ±HH:MM}; {@code T} and {@code Z} in either case. Written by hand because
   * {@code DateTimeFormatter} costs about a microsecond per call on the hot {@code job.*} path; calendar
   * validity (Feb 30, hour 25) is still checked by {@link LocalDateTime#of}. Leap seconds are refused.
   */
  static Optional<Instant> parseRfc3339(String s) {
    int n = s.length();
    if (n < 20 || n > MAX_TIMESTAMP) return Optional.empty();
    if (s.charAt(4) != '-' || s.charAt(7) != '-' || (s.charAt(10) != 'T' && s.charAt(10) != 't')
        || s.charAt(13) != ':' || s.charAt(16) != ':') {
      return Optional.empty();
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if ((year | month | day | hour | minute | second) < 0) return Optional.empty();
    int i = 19;
    int nanos = 0;
    if (s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && i - start < 10 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        nanos = nanos * 10 + (s.charAt(i) - '0');
        i++;
      }
      int count = i - start;
      if (count == 0 || count > 9) return Optional.empty();
      for (int k = count; k < 9; k++) nanos *= 10;
    }
    if (i >= n) return Optional.empty();
    int offsetSeconds;
    char z = s.charAt(i);
    if ((z == 'Z' || z == 'z') && i + 1 == n) {
      offsetSeconds = 0;
    } else if ((z == '+' || z == '-') && i + 6 == n && s.charAt(i + 3) == ':') {
      int oh = digits(s, i + 1, 2);
      int om = digits(s, i + 4, 2);
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return Optional.empty();
      offsetSeconds = (z == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
      return Optional.empty();
    }
    try {
      long local = LocalDateTime.of(year, month, day, hour, minute, second).toEpochSecond(ZoneOffset.UTC);
      return Optional.of(Instant.ofEpochSecond(local - offsetSeconds, nanos));
    } catch (DateTimeException e) {
      return Optional.empty();
    }
  }

  /** The non-negative value of {@code count} ASCII digits at {@code from}, or -1. */
  private static int digits(String s, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /**
   * Strict 8-4-4-4-12 hex form; {@link UUID#fromString} also takes {@code 1-1-1-1-1}, which we do not.
   */
  static Optional<UUID> parseUuid(String s) {
    if (s.length() != 36) return Optional.empty();
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean ok = (i == 8 || i == 13 || i == 18 || i == 23)
          ? c == '-'
          : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) return Optional.empty();
    }
    return Optional.of(UUID.fromString(s));
  }

  /** A bounded, single-line copy of untrusted text for an error message. */
  private static String echo(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_ECHO) + 3);
    for (int i = 0; i < s.length() && i < MAX_ECHO; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '?' : c);
    }
    if (s.length() > MAX_ECHO) b.append("...");
    return b.toString();
  }

  private static String firstLine(String s) {
    if (s == null) return "parse error";
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
