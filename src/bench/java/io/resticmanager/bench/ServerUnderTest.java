package io.resticmanager.bench;

import io.resticmanager.support.ServerApi;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The server the load tool drives: either a child JVM it starts ({@code java -jar restic-manager.jar
 * serve} on a fresh data dir and a free loopback port, stopped with SIGTERM at the end, or SIGKILL when a
 * scenario kills it) or one already running at a given URL. Heap is read with the {@code jcmd} of the
 * server's own JDK after forced full GCs, so it needs the server's pid (known for a child;
 * {@code --server-pid} otherwise). A child given a certificate pair speaks only HTTPS and WSS
 * ({@code RM_TLS_CERT_FILE}, {@code RM_TLS_KEY_FILE}); its clients trust it through {@link #trust}.
 */
final class ServerUnderTest implements AutoCloseable {
  /** G1 and Parallel: "total 1048576K, used 20480K"; ZGC: "used 40M, capacity"; Shenandoah: "16943K used". */
  private static final Pattern USED = Pattern.compile("used (\\d+)([KMG])\\b|(\\d+)([KMG]) used");

  final URI base;
  final String adminToken;
  final String metricsToken;
  /** The client context that trusts an {@code https} server's certificate; null for {@code http}. */
  final SSLContext trust;
  private final Process process;
  private final long pid;
  /** The {@code bin} directory of the server's JDK, for its {@code jcmd}. */
  private final Path jdkBin;
  final Path log;

  private ServerUnderTest(URI base, String adminToken, String metricsToken, SSLContext trust, Process process, long pid,
      Path jdkBin, Path log) {
    this.base = base;
    this.adminToken = adminToken;
    this.metricsToken = metricsToken;
    this.trust = trust;
    this.process = process;
    this.pid = pid;
    this.jdkBin = jdkBin;
    this.log = log;
  }

  /**
   * Starts {@code java [jvmArgs] -jar jar serve} on a fresh data dir; waits until /healthz answers. With a
   * {@code tls} pair (PEM files for 127.0.0.1) it serves HTTPS, and {@code trust} must trust that pair.
   * {@code env} is laid over the variables set here (a cluster node's database, ports and seeds, the
   * tokens every node shares).
   */
  static ServerUnderTest spawn(Path java, Path jar, Path dataDir, List<String> jvmArgs, Map<String, String> env,
      TestCerts.Pair tls, SSLContext trust) throws Exception {
    Files.createDirectories(dataDir);
    int port = TestServer.freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.add("serve");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> e = pb.environment();
    e.put("RM_HTTP_HOST", "127.0.0.1");
    e.put("RM_HTTP_PORT", Integer.toString(port));
    e.put("RM_DATA_DIR", dataDir.toString());
    e.put("RM_ADMIN_TOKEN", "load-admin-" + UUID.randomUUID());
    e.put("RM_METRICS_TOKEN", "load-metrics-" + UUID.randomUUID());
    if (tls != null) {
      e.put("RM_TLS_CERT_FILE", tls.cert().toString());
      e.put("RM_TLS_KEY_FILE", tls.key().toString());
    }
    e.putAll(env);
    Path log = dataDir.resolve("server.log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    ServerUnderTest s = new ServerUnderTest(URI.create((tls != null ? "https" : "http") + "://127.0.0.1:" + port),
        e.get("RM_ADMIN_TOKEN"), e.get("RM_METRICS_TOKEN"), tls != null ? trust : null, p, p.pid(),
        java.toAbsolutePath().getParent(), log);
    s.awaitHealthy(Duration.ofSeconds(90));
    return s;
  }

  static ServerUnderTest target(URI base, String adminToken, String metricsToken, SSLContext trust, long pid)
      throws Exception {
    ServerUnderTest s = new ServerUnderTest(base, adminToken, metricsToken, trust, null, pid,
        Path.of(System.getProperty("java.home"), "bin"), null);
    s.awaitHealthy(Duration.ofSeconds(30));
    return s;
  }

  private void awaitHealthy(Duration timeout) throws Exception {
    HttpClient.Builder builder = HttpClient.newBuilder();
    if (trust != null) builder.sslContext(trust);
    HttpClient http = builder.build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (process != null && !process.isAlive()) {
        throw new IllegalStateException("server exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/healthz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("server not healthy within " + timeout);
  }

  /** The admin API and /metrics of this server, parsed. */
  ServerApi api() {
    return new ServerApi(base.getPort(), adminToken, metricsToken, trust);
  }

  URI wsUri() {
    String scheme = base.getScheme().equals("https") ? "wss://" : "ws://";
    return URI.create(scheme + base.getHost() + ":" + base.getPort() + "/api/v1/agents/ws");
  }

  long pid() {
    return pid;
  }

  boolean canMeasureHeap() {
    return pid > 0;
  }

  /** Used heap in bytes after two forced full collections of the server JVM. */
  long heapUsedAfterGc() throws Exception {
    jcmd("GC.run");
    jcmd("GC.run");
    String info = jcmd("GC.heap_info");
    Matcher m = USED.matcher(info);
    if (!m.find()) throw new IllegalStateException("cannot read heap from: " + info);
    boolean first = m.group(1) != null;
    long amount = Long.parseLong(first ? m.group(1) : m.group(3));
    return amount << switch (first ? m.group(2) : m.group(4)) {
      case "K" -> 10;
      case "M" -> 20;
      default -> 30;
    };
  }

  /** The server process's resident set ({@code VmRSS}) in bytes. */
  long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) << 10;
    }
    throw new IllegalStateException("no VmRSS for pid " + pid);
  }

  /** Live objects by class: bytes per class name (forces a full GC). */
  Map<String, long[]> classHistogram() throws Exception {
    Map<String, long[]> out = new HashMap<>();
    Pattern row = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
    for (String line : jcmd("GC.class_histogram").split("\n")) {
      Matcher m = row.matcher(line);
      if (m.find()) out.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
    }
    return out;
  }

  private String jcmd(String command) throws Exception {
    Process p = new ProcessBuilder(jdkBin.resolve("jcmd").toString(),
        Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + out);
    }
    return out;
  }

  /** SIGKILL to a child, as {@code kill -9}; returns once it is gone. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("pid " + pid + " outlived SIGKILL");
  }

  /** SIGTERM to a child without waiting: several nodes of a cluster then stop at the same time. */
  void terminate() {
    if (process != null) process.destroy();
  }

  /** SIGTERM to a child (graceful stop), forcibly after a minute; nothing for a targeted or killed server. */
  @Override
  public void close() throws Exception {
    if (process == null || !process.isAlive()) return;
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
