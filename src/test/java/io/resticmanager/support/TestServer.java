package io.resticmanager.support;

import io.resticmanager.config.SettingsLoader;
import io.resticmanager.server.Server;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real server in-process on a free loopback port, on a given data dir (SQLite by default), with
 * extra HOCON (e.g. shortened deadlines) and RM_* variables. Restartable on the same data dir.
 */
public final class TestServer implements AutoCloseable {
  private static final Pattern FIELD = Pattern.compile("\"(host_id|agent_token|token|job_id)\"\\s*:\\s*\"([^\"]+)\"");

  public final Path dataDir;
  private final String hocon;
  private final Map<String, String> env;
  private Server server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestServer(Path dataDir, String hocon, Map<String, String> env) {
    this.dataDir = dataDir;
    this.hocon = hocon;
    this.env = env;
  }

  /** Starts a server; {@code hocon} goes into the --config file, {@code env} on top of the defaults. */
  public static TestServer start(Path dataDir, String hocon, Map<String, String> env) throws Exception {
    Map<String, String> e = new HashMap<>();
    e.put("RM_DATA_DIR", dataDir.toString());
    e.put("RM_HTTP_PORT", Integer.toString(freePort()));
    e.put("RM_ADMIN_TOKEN", "test-admin-token-0123456789");
    e.putAll(env);
    TestServer s = new TestServer(dataDir, hocon, e);
    s.boot();
    return s;
  }

  public static TestServer start(Path dataDir) throws Exception {
    return start(dataDir, "", Map.of());
  }

  private void boot() throws Exception {
    Files.createDirectories(dataDir);
    Path conf = dataDir.resolve("test-server.conf");
    Files.writeString(conf, hocon);
    server = Server.start(SettingsLoader.load(java.util.Optional.of(conf), env));
  }

  /** Stops gracefully and starts again on the same data dir and port. */
  public void restart() throws Exception {
    server.stop();
    boot();
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public Server server() {
    return server;
  }

  public int port() {
    return server.port();
  }

  public String adminToken() {
    return server.adminToken();
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  public URI wsUri() {
    return URI.create("ws://127.0.0.1:" + port() + "/api/v1/agents/ws");
  }

  public HttpResponse<String> get(String path, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).GET();
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> send(String method, String path, String bearer, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return send(method, path, adminToken(), body);
  }

  /** An enrolled host: its id and agent token. */
  public record Enrolled(String hostId, String agentToken) {}

  /** Enrolls {@code hostname} through the real API. */
  public Enrolled enroll(String hostname) throws Exception {
    HttpResponse<String> t = admin("POST", "/api/v1/enrollment-tokens", "{}");
    if (t.statusCode() != 201) throw new AssertionError("enrollment token: " + t.statusCode() + " " + t.body());
    String token = field(t.body(), "token");
    HttpResponse<String> e = send("POST", "/api/v1/agents/enroll", null,
        "{\"enrollment_token\":\"" + token + "\",\"hostname\":\"" + hostname + "\"}");
    if (e.statusCode() != 201) throw new AssertionError("enroll: " + e.statusCode() + " " + e.body());
    return new Enrolled(field(e.body(), "host_id"), field(e.body(), "agent_token"));
  }

  /** A string field of a flat JSON reply (host_id, agent_token, token, job_id). */
  public static String field(String json, String name) {
    Matcher m = FIELD.matcher(json);
    while (m.find()) {
      if (m.group(1).equals(name)) return m.group(2);
    }
    throw new AssertionError("no field " + name + " in " + json);
  }

  @Override
  public void close() {
    if (server != null) server.stop();
  }
}
