package io.resticmanager.support;

import io.resticmanager.config.SettingsLoader;
import io.resticmanager.server.Server;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real server in-process on a free loopback port, on a given data dir (SQLite by default), with
 * extra HOCON (e.g. shortened deadlines) and RM_* variables. Restartable on the same data dir. With
 * {@code RM_TLS_CERT_FILE} set, its {@link #api()} speaks HTTPS and WSS and trusts the certificates in that
 * file as it was at start (with {@link TestCerts}' files: the certificate and its CA).
 */
public final class TestServer implements AutoCloseable {
  private static final Pattern FIELD = Pattern.compile("\"(host_id|agent_token|token|job_id)\"\\s*:\\s*\"([^\"]+)\"");

  public final Path dataDir;
  private final String hocon;
  private final Map<String, String> env;
  private Server server;
  private ServerApi api;

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
    String certFile = env.get("RM_TLS_CERT_FILE");
    api = new ServerApi(server.port(), server.adminToken(), null,
        certFile == null ? null : TestCerts.trusting(Path.of(certFile)));
  }

  /** Stops gracefully and starts again on the same data dir and port; returns how long the stop took. */
  public java.time.Duration restart() throws Exception {
    long t0 = System.nanoTime();
    server.stop();
    java.time.Duration stop = java.time.Duration.ofNanos(System.nanoTime() - t0);
    boot();
    return stop;
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

  /** The HTTP API of this server, with its admin token (no metrics token). */
  public ServerApi api() {
    return api;
  }

  public URI uri(String path) {
    return api().uri(path);
  }

  public URI wsUri() {
    return api().wsUri();
  }

  public HttpResponse<String> get(String path, String bearer) throws Exception {
    return api().get(path, bearer);
  }

  public HttpResponse<String> send(String method, String path, String bearer, String body) throws Exception {
    return api().send(method, path, bearer, body);
  }

  public HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return send(method, path, adminToken(), body);
  }

  /** An enrolled host: its id and agent token. */
  public record Enrolled(String hostId, String agentToken) {}

  /** Enrolls {@code hostname} through the real API. */
  public Enrolled enroll(String hostname) throws Exception {
    return api().enroll(hostname);
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
