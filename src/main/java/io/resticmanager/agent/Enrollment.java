package io.resticmanager.agent;

import io.resticmanager.config.ConfigError;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;
import spray.json.JsObject;
import spray.json.JsString;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * Obtains the agent token: reads {@code <data dir>/agent-token} when it exists, otherwise trades the
 * enrollment token for one ({@code POST /api/v1/agents/enroll}) and stores it in that file, created
 * with mode 0600 before the secret is written. Called once by {@link Agent} at start. The server URLs
 * are tried in rounds, each in a new random order: an unreachable server or a 5xx moves on to the next
 * URL, a round in which none enrolled the agent is retried after {@link Backoff}; 401, 409 and other 4xx
 * answers are final and become {@link Refused}. Never logs or prints either token.
 */
public final class Enrollment {
  private static final Logger log = LoggerFactory.getLogger(Enrollment.class);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** The server refused enrollment for a reason retrying cannot fix; {@code AgentMain} exits 2. */
  public static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Refused(String message) {
      super(message);
    }
  }

  /** Enrollment was abandoned because the agent is stopping. */
  public static final class Stopped extends Exception {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("stopped during enrollment");
    }
  }

  private Enrollment() {}

  /**
   * The stored agent token, enrolling first when there is none.
   *
   * @param random orders the server URLs of each round
   * @param stop counted down when the agent must stop; ends the retry loop with {@link Stopped}
   */
  public static String agentToken(AgentSettings s, HttpClient http, Backoff backoff, Random random, CountDownLatch stop)
      throws IOException, InterruptedException, Stopped {
    Path file = s.agentTokenFile();
    if (Files.exists(file)) {
      String token = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (token.isEmpty()) {
        throw new ConfigError("agent token file", file.toString(), "is empty: delete it and enroll again with RM_ENROLLMENT_TOKEN");
      }
      warnIfExposed(file);
      if (s.enrollmentToken().isPresent()) {
        log.info("Already enrolled (agent token in [{}]); RM_ENROLLMENT_TOKEN is not used", file);
      } else {
        log.info("Using the agent token in [{}]", file);
      }
      return token;
    }
    String enrollment = s.enrollmentToken().orElseThrow(() -> new ConfigError(
        AgentSettings.P + "enrollment-token (RM_ENROLLMENT_TOKEN)", "",
        "is not set and there is no agent token in " + file + " yet: create an enrollment token on the server "
            + "(POST /api/v1/enrollment-tokens) and start the agent with RM_ENROLLMENT_TOKEN"));

    Files.createDirectories(s.dataDir());
    String body = "{\"enrollment_token\":" + json(enrollment) + ",\"hostname\":" + json(s.hostname()) + "}";
    while (true) {
      List<URI> round = new ArrayList<>(s.enrollUrls());
      Collections.shuffle(round, random);
      for (URI url : round) {
        String token = enrollAt(url, body, s, http);
        if (token != null) return token;
      }
      wait(backoff, stop);
    }
  }

  /** One enrollment request: the stored agent token, or null when this server could not answer. */
  private static String enrollAt(URI url, String body, AgentSettings s, HttpClient http)
      throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(url)
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
        .build();
    HttpResponse<String> res;
    try {
      log.info("Enrolling as [{}] at [{}]", s.hostname(), url);
      res = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      log.warn("Enrollment at [{}]: {}", url, ServerTrust.problem(e, url).orElse("cannot reach the server: " + e));
      return null;
    }
    int code = res.statusCode();
    if (code == 201 || code == 200) {
      String token = field(res.body(), "agent_token");
      String hostId = field(res.body(), "host_id");
      if (token == null || token.isBlank()) {
        throw new Refused("enrollment answered " + code + " without an agent_token");
      }
      store(s.agentTokenFile(), token.trim());
      log.info("Enrolled as host [{}]; agent token stored in [{}]", hostId, s.agentTokenFile());
      return token.trim();
    }
    if (code == 401) {
      throw new Refused("enrollment refused (401): the enrollment token is used, expired or unknown; "
          + "create a new one (POST /api/v1/enrollment-tokens) and set RM_ENROLLMENT_TOKEN");
    }
    if (code == 409) {
      throw new Refused("enrollment refused (409): a host named \"" + s.hostname() + "\" is already enrolled; "
          + "remove it on the server (DELETE /api/v1/hosts/{id}) or choose another RM_HOSTNAME");
    }
    if (code >= 400 && code < 500) {
      throw new Refused("enrollment refused (" + code + "): " + serverMessage(res.body()));
    }
    log.warn("Enrollment at [{}]: the server answered [{}]", url, code);
    return null;
  }

  private static void wait(Backoff backoff, CountDownLatch stop) throws InterruptedException, Stopped {
    Duration d = backoff.next();
    log.warn("Enrollment: no server could enroll the agent; retrying in [{}] ms", d.toMillis());
    if (stop.await(d.toMillis(), TimeUnit.MILLISECONDS)) throw new Stopped();
  }

  /** Writes the token to a 0600 temp file created before any byte of it, fsyncs, renames into place. */
  static void store(Path file, String token) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(tmp);
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) ch.write(b);
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void warnIfExposed(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      p.retainAll(Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ,
          PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
      if (!p.isEmpty()) log.warn("[{}] is readable or writable by others; chmod 600 it", file);
    } catch (IOException | UnsupportedOperationException e) {
      // nothing to check
    }
  }

  private static String field(String body, String name) {
    try {
      JsValue v = JsonParser.apply(ParserInput.apply(body));
      if (v instanceof JsObject o) {
        Option<JsValue> f = o.fields().get(name);
        if (f.isDefined()) {
          JsValue x = f.get();
          return x instanceof JsString s ? s.value() : x.toString();
        }
      }
    } catch (RuntimeException e) {
      // not JSON
    }
    return null;
  }

  private static String serverMessage(String body) {
    String m = field(body, "message");
    if (m == null) m = body == null ? "" : body;
    m = m.replaceAll("\\p{Cntrl}", " ").strip();
    return m.length() > 200 ? m.substring(0, 200) + "..." : m;
  }

  /** A JSON string literal. */
  static String json(String s) {
    Objects.requireNonNull(s);
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }
}
