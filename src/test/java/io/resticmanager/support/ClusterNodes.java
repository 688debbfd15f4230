package io.resticmanager.support;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Several server nodes of one Pekko cluster, each a child JVM ({@code serve}) on loopback with its own
 * HTTP and cluster port, all listing every node as a seed and sharing one database (a PostgreSQL schema).
 * Nodes can be killed with SIGKILL, stopped with SIGTERM and started again on the same ports.
 */
public final class ClusterNodes implements AutoCloseable {
  public static final String ADMIN = "cluster-admin-token-0123456789";
  public static final String METRICS = "cluster-metrics-token-0123456789";
  public static final Duration START = Duration.ofSeconds(90);

  private final Path dir;
  private final Map<String, String> env;
  private final Path config;
  private final IntFunction<Map<String, String>> nodeEnv;
  private final int[] httpPorts;
  private final int[] clusterPorts;
  private final ChildProcess[] nodes;
  /** Every process ever started, for their logs and for cleaning up. */
  private final List<ChildProcess> lives = new ArrayList<>();

  private ClusterNodes(Path dir, int n, Map<String, String> env, Path config, IntFunction<Map<String, String>> nodeEnv)
      throws IOException {
    this.dir = dir;
    this.env = env;
    this.config = config;
    this.nodeEnv = nodeEnv;
    this.httpPorts = new int[n];
    this.clusterPorts = new int[n];
    this.nodes = new ChildProcess[n];
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      httpPorts[i] = TestServer.freePort();
      clusterPorts[i] = TestServer.freePort();
      seeds.add("127.0.0.1:" + clusterPorts[i]);
    }
    env.put("RM_CLUSTER_SEED_NODES", String.join(",", seeds));
  }

  /**
   * Starts {@code n} nodes (the first seed first), waits until each listens and sees all {@code n} members
   * up. {@code dbEnv} names the shared database ({@code RM_DB_URL}, …); {@code hocon} goes into every
   * node's --config file; {@code extraEnv} is laid over the rest.
   */
  public static ClusterNodes start(Path dir, int n, Map<String, String> dbEnv, String hocon,
      Map<String, String> extraEnv) throws Exception {
    return start(dir, n, dbEnv, hocon, extraEnv, i -> Map.of());
  }

  /** As above, with {@code nodeEnv} giving each node's own variables (its TLS files, say). */
  public static ClusterNodes start(Path dir, int n, Map<String, String> dbEnv, String hocon,
      Map<String, String> extraEnv, IntFunction<Map<String, String>> nodeEnv) throws Exception {
    Files.createDirectories(dir);
    Map<String, String> env = new HashMap<>(dbEnv);
    env.put("RM_ADMIN_TOKEN", ADMIN);
    env.put("RM_METRICS_TOKEN", METRICS);
    env.putAll(extraEnv);
    Path config = dir.resolve("node.conf");
    Files.writeString(config, hocon);
    ClusterNodes c = new ClusterNodes(dir, n, env, config, nodeEnv);
    try {
      c.launch(0);
      c.nodes[0].awaitOutput("Listening on", START);
      for (int i = 1; i < n; i++) c.launch(i);
      for (int i = 1; i < n; i++) c.nodes[i].awaitOutput("Listening on", START);
      c.awaitMembersUp(n);
      return c;
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
  }

  private void launch(int i) throws IOException {
    nodes[i] = startNode("node-" + i, httpPorts[i], clusterPorts[i], nodeEnv.apply(i));
  }

  private ChildProcess startNode(String name, int httpPort, int clusterPort, Map<String, String> own)
      throws IOException {
    Map<String, String> e = new HashMap<>(env);
    e.put("RM_DATA_DIR", dir.resolve(name).toString());
    e.put("RM_HTTP_PORT", Integer.toString(httpPort));
    e.put("RM_CLUSTER_PORT", Integer.toString(clusterPort));
    e.putAll(own);
    ChildProcess p = ChildProcess.start(dir, e, ChildProcess.FAST_START, "serve", "--config", config.toString());
    lives.add(p);
    return p;
  }

  /**
   * Starts a node that is not one of the seeds, with the same seeds and settings and {@code own} variables
   * laid over them, and waits until it listens; whether it joins is for the caller to see.
   */
  public Another startAnother(String name, Map<String, String> own) throws Exception {
    int port = TestServer.freePort();
    ChildProcess p = startNode(name, port, TestServer.freePort(), own);
    p.awaitOutput("Listening on", START);
    return new Another(p, new ServerApi(port, ADMIN, METRICS));
  }

  /** A node started by {@link #startAnother}. */
  public record Another(ChildProcess process, ServerApi api) {}

  public int size() {
    return nodes.length;
  }

  public boolean alive(int i) {
    return nodes[i] != null && nodes[i].process.isAlive();
  }

  /** The indexes of the nodes that run. */
  public List<Integer> live() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < nodes.length; i++) if (alive(i)) out.add(i);
    return out;
  }

  public ServerApi api(int i) {
    return new ServerApi(httpPorts[i], ADMIN, METRICS);
  }

  public URI wsUri(int i) {
    return api(i).wsUri();
  }

  /** {@code http://127.0.0.1:<port>} of each node, in order: an agent's URL list. */
  public List<String> baseUrls() {
    List<String> out = new ArrayList<>();
    for (int port : httpPorts) out.add("http://127.0.0.1:" + port);
    return out;
  }

  /** A random node's agent endpoint at each call, as agents given every node's URL pick one. */
  public Supplier<URI> anyWsUri(long seed) {
    Random r = new Random(seed);
    return () -> {
      synchronized (r) {
        return wsUri(r.nextInt(nodes.length));
      }
    };
  }

  /** Waits until every running node sees {@code up} members up and none unreachable. */
  public void awaitMembersUp(int up) throws Exception {
    Await.until(START, () -> {
      for (int i : live()) {
        Exposition m = api(i).metrics();
        if (m.one("restic_manager_cluster_members", Map.of("status", "up")).number() != up) return false;
        if (m.one("restic_manager_cluster_members", Map.of("status", "unreachable")).number() != 0) return false;
      }
      return true;
    });
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill9(int i) throws InterruptedException {
    nodes[i].kill9(Duration.ofSeconds(30));
  }

  /** SIGSTOP ({@code stop = true}) or SIGCONT: the node stops answering anything, as if cut off, and comes back. */
  public void freeze(int i, boolean stop) throws Exception {
    Process p = new ProcessBuilder("kill", stop ? "-STOP" : "-CONT", Long.toString(nodes[i].process.pid()))
        .redirectErrorStream(true).start();
    if (p.waitFor() != 0) throw new IOException("kill failed: " + new String(p.getInputStream().readAllBytes()));
  }

  /** Waits until node {@code i} has exited by itself and returns its exit code. */
  public int exitCode(int i) throws InterruptedException {
    return nodes[i].waitFor(START);
  }

  /** The output of node {@code i}'s current process. */
  public String output(int i) {
    return nodes[i].outputText();
  }

  /** SIGTERM, and waits for the exit code. */
  public int stop(int i) throws InterruptedException {
    nodes[i].sigterm();
    return nodes[i].waitFor(START);
  }

  /** Starts node {@code i} again on its ports and waits until it listens. */
  public void restart(int i) throws Exception {
    launch(i);
    nodes[i].awaitOutput("Listening on", START);
  }

  /** The output of every process started, concatenated. */
  public String allOutput() {
    StringBuilder out = new StringBuilder();
    for (ChildProcess p : lives) out.append(p.outputText());
    return out.toString();
  }

  @Override
  public void close() {
    lives.forEach(ChildProcess::close);
  }
}
