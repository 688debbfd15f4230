package io.resticmanager.http;

import io.resticmanager.agents.WireCodec;
import io.resticmanager.fleet.HostView;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.JobRow;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.regex.Pattern;
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
 * The admin and enrollment API's JSON: request bodies parsed with spray-json into Java values, replies
 * written as compact JSON with times as RFC 3339 UTC strings. A body that does not parse or has a bad
 * field throws {@link BadRequest} naming the field; the routes turn it into a 400.
 */
public final class ApiJson {
  private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  private static final int MAX_BODY_CHARS = 64 * 1024;
  private static final List<String> RESTORE_FIELDS = List.of("snapshot_id", "target", "include");

  private ApiJson() {}

  /** A request body the API cannot take; the message is safe to show the client. */
  public static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadRequest(String message) {
      super(message);
    }
  }

  /** {@code {"enrollment_token","hostname"}}. */
  public record EnrollRequest(String enrollmentToken, String hostname) {}

  /** Parses {@code POST /api/v1/enrollment-tokens}; an empty body means the default life. */
  public static OptionalLong parseTtlSeconds(String body, long maxSeconds) {
    if (body.isBlank()) return OptionalLong.empty();
    JsObject o = object(body);
    Option<JsValue> v = o.fields().get("ttl_seconds");
    if (v.isEmpty() || v.get() == JsNull$.MODULE$) return OptionalLong.empty();
    long ttl = wholeNumber(v.get(), "ttl_seconds");
    if (ttl < 1 || ttl > maxSeconds) {
      throw new BadRequest("invalid field \"ttl_seconds\": must be from 1 to " + maxSeconds);
    }
    return OptionalLong.of(ttl);
  }

  public static EnrollRequest parseEnroll(String body) {
    JsObject o = object(body);
    String token = string(o, "enrollment_token", 512);
    String hostname = string(o, "hostname", 253);
    if (!HOSTNAME.matcher(hostname).matches()) {
      throw new BadRequest("invalid field \"hostname\": letters, digits, '.', '-' and '_' only");
    }
    return new EnrollRequest(token, hostname);
  }

  /** {@code POST /api/v1/hosts/{id}/jobs}: the kind, and for {@code restore} what to restore (else null). */
  public record RunJobRequest(JobKind kind, RestoreSpec restore) {}

  /**
   * Parses {@code {"kind":"backup"}} or {@code {"kind":"restore","snapshot_id":…,"target":…,"include":[…]}};
   * an unknown kind, a restore without a valid target, or a restore field on another kind is a 400
   * naming the field. A JSON {@code null} counts as absent.
   */
  public static RunJobRequest parseRunJob(String body) {
    JsObject o = object(body);
    String wire = string(o, "kind", 32);
    JobKind kind = JobKind.fromWire(wire).orElseThrow(() -> new BadRequest(
        "invalid field \"kind\": must be one of backup, check, forget, prune, restore"));
    if (kind != JobKind.RESTORE) {
      for (String field : RESTORE_FIELDS) {
        if (present(o, field)) throw new BadRequest("invalid field \"" + field + "\": only for kind restore");
      }
      return new RunJobRequest(kind, null);
    }
    if (!present(o, "target")) throw new BadRequest("invalid field \"target\": required for kind restore");
    String snapshot = present(o, "snapshot_id") ? string(o, "snapshot_id", 64) : RestoreSpec.LATEST;
    String target = string(o, "target", RestoreSpec.MAX_PATH_CHARS);
    List<String> include = present(o, "include") ? strings(o, "include") : List.of();
    RestoreSpec restore = new RestoreSpec(snapshot, target, include);
    Optional<String> problem = restore.problem();
    if (problem.isPresent()) throw new BadRequest(problem.get());
    return new RunJobRequest(kind, restore);
  }

  private static JsObject object(String body) {
    if (body.length() > MAX_BODY_CHARS) throw new BadRequest("the body is too large");
    if (WireCodec.nestedTooDeep(body)) throw new BadRequest("the body is not a JSON object");
    JsValue v;
    try {
      v = JsonParser.apply(ParserInput.apply(body));
    } catch (RuntimeException e) {
      throw new BadRequest("the body is not valid JSON");
    }
    if (!(v instanceof JsObject o)) throw new BadRequest("the body is not a JSON object");
    return o;
  }

  private static String string(JsObject o, String field, int maxLength) {
    Option<JsValue> v = o.fields().get(field);
    if (v.isEmpty() || !(v.get() instanceof JsString s)) {
      throw new BadRequest("invalid field \"" + field + "\": a string is required");
    }
    String value = s.value();
    if (value.isEmpty() || value.length() > maxLength) {
      throw new BadRequest("invalid field \"" + field + "\": must be 1 to " + maxLength + " characters");
    }
    return value;
  }

  private static boolean present(JsObject o, String field) {
    Option<JsValue> v = o.fields().get(field);
    return v.isDefined() && v.get() != JsNull$.MODULE$;
  }

  /** An array of strings; the elements' content is judged by the caller. */
  private static List<String> strings(JsObject o, String field) {
    if (!(o.fields().get(field).get() instanceof JsArray a)) {
      throw new BadRequest("invalid field \"" + field + "\": an array of strings is required");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.elements().size(); i++) {
      if (!(a.elements().apply(i) instanceof JsString s)) {
        throw new BadRequest("invalid field \"" + field + "\": an array of strings is required");
      }
      out.add(s.value());
    }
    return out;
  }

  private static long wholeNumber(JsValue v, String field) {
    if (!(v instanceof JsNumber n)) throw new BadRequest("invalid field \"" + field + "\": a number is required");
    BigDecimal d = n.value().bigDecimal();
    if (d.precision() - d.scale() > 18) throw new BadRequest("invalid field \"" + field + "\": out of range");
    try {
      return d.longValueExact();
    } catch (ArithmeticException e) {
      throw new BadRequest("invalid field \"" + field + "\": a whole number is required");
    }
  }

  // ------------------------------------------------------------------ replies

  public static String error(String code, String message) {
    return new Obj().str("error", code).str("message", message).end();
  }

  public static String enrollmentToken(String token, long expiresAt) {
    return new Obj().str("token", token).time("expires_at", expiresAt).end();
  }

  public static String enrolled(String hostId, String agentToken) {
    return new Obj().str("host_id", hostId).str("agent_token", agentToken).end();
  }

  public static String jobAccepted(String jobId) {
    return new Obj().str("job_id", jobId).end();
  }

  public static String host(HostView h) {
    return new Obj().str("id", h.id()).str("name", h.name()).raw("online", Boolean.toString(h.online()))
        .time("last_seen_at", h.lastSeenAt()).str("agent_version", h.agentVersion())
        .str("restic_version", h.resticVersion()).str("os", h.os()).time("enrolled_at", h.enrolledAt()).end();
  }

  public static String job(JobRow j) {
    return new Obj().str("id", j.id()).str("host_id", j.hostId()).str("kind", j.kind().wire())
        .str("status", j.status() == null ? "running" : j.status().wire())
        .time("started_at", j.startedAt()).time("finished_at", j.finishedAt())
        .raw("duration_seconds", j.durationSeconds() == null ? "null" : j.durationSeconds().toString())
        .raw("exit_code", j.exitCode() == null ? "null" : j.exitCode().toString())
        .strOrNull("error", j.error())
        .raw("summary", j.summaryJson() == null ? "null" : j.summaryJson()).end();
  }

  public static String alert(AlertRow a) {
    return new Obj().str("id", a.id()).str("host_id", a.hostId()).str("kind", a.kind().wire())
        .str("severity", a.kind().severity().wire()).str("status", a.open() ? "open" : "resolved")
        .time("raised_at", a.raisedAt()).time("acknowledged_at", a.acknowledgedAt())
        .time("resolved_at", a.resolvedAt()).str("message", a.message()).end();
  }

  /** A JSON array of already-rendered elements. */
  public static <T> String array(List<T> items, Function<T, String> render) {
    StringBuilder sb = new StringBuilder(64 + items.size() * 200).append('[');
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) sb.append(',');
      sb.append(render.apply(items.get(i)));
    }
    return sb.append(']').toString();
  }

  /** A small JSON object writer; string values go through the codec's escaping. */
  private static final class Obj {
    private final StringBuilder sb = new StringBuilder(256).append('{');

    private Obj key(String k) {
      if (sb.length() > 1) sb.append(',');
      sb.append('"').append(k).append("\":");
      return this;
    }

    Obj str(String k, String v) {
      key(k);
      WireCodec.quote(sb, v == null ? "" : v);
      return this;
    }

    Obj strOrNull(String k, String v) {
      if (v == null) return raw(k, "null");
      return str(k, v);
    }

    /** Epoch millis as RFC 3339 UTC; 0 is JSON null (never happened). */
    Obj time(String k, long epochMillis) {
      if (epochMillis == 0) return raw(k, "null");
      key(k);
      sb.append('"').append(Instant.ofEpochMilli(epochMillis)).append('"');
      return this;
    }

    Obj raw(String k, String json) {
      key(k);
      sb.append(json);
      return this;
    }

    String end() {
      return sb.append('}').toString();
    }
  }
}
