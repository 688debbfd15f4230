package io.resticmanager.bench;

import com.sun.management.UnixOperatingSystemMXBean;
import io.resticmanager.config.Settings;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLContext;

/**
 * Drives real WebSocket agents on loopback against a real server and reports, as Markdown tables:
 * heap per idle agent connection, acked {@code job.finished} per second with ack latency, and
 * {@code /metrics} latency. Everything is bounded in count and time and stops by itself. See
 * docs/benchmarks.md for the command line; {@code --help} lists the options.
 *
 * <p>By default it starts the server itself as a child JVM from {@code target/restic-manager.jar}, twice:
 * a small fleet ({@code --small-fleet}, default 1,000 hosts: {@code /metrics} at that size, then the
 * throughput run with {@code --throughput-agents} of them) and a large one (the largest of
 * {@code --idle-levels}: heap per connection at each level, then {@code /metrics} at that size). With
 * {@code --url} it targets a running server instead (then heap needs {@code --server-pid}).
 *
 * <p>{@code --transports} repeats all of it per entry, each time with new servers: {@code plain} (HTTP and
 * WS, the default) or {@code tls} (HTTPS and WSS; the server gets a certificate for 127.0.0.1 from a CA
 * made for this run, which the agents, the enrolment client and the scraper trust and nothing else). With
 * more than one round the report ends with the rounds side by side and the ratios TLS / plain.
 *
 * <p>{@code --scenarios=cluster} starts, per entry of {@code --cluster-nodes}, that many nodes on one new
 * PostgreSQL schema, spreads the fleet's agents over them, measures each node's {@code /metrics} and the
 * throughput of them all, and with several nodes times how the fleet heals after {@code kill -9} of one and
 * checks that no acked job end was lost ({@link #cluster}).
 */
public final class LoadTool {
  private static final Pattern FIELD = Pattern.compile("\"(host_id|agent_token|token)\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern ONLINE = Pattern.compile("\"online\"\\s*:\\s*true");

  private final Map<String, String> opts;
  private final StringBuilder report = new StringBuilder();
  private final List<String> transports;
  /** The certificate pair of {@code tls} rounds' servers; null without such rounds. */
  private final TestCerts.Pair serverPair;
  /**
   * What every client of this run trusts for HTTPS: the run's CA, or {@code --ca-file}; a session cache per
   * connection, so that every handshake is a full one. Null without TLS.
   */
  private final SSLContext trust;
  private final List<HttpClient> wsClients = new ArrayList<>();
  private final HttpClient http;
  private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "load-heartbeats");
    t.setDaemon(true);
    return t;
  });
  private final List<LoadAgent> live = new ArrayList<>();
  private final AtomicInteger hostSeq = new AtomicInteger();
  private final List<Round> rounds = new ArrayList<>();
  private Round round;
  private final List<ClusterRun> clusters = new ArrayList<>();

  private LoadTool(Map<String, String> opts) throws IOException {
    this.opts = opts;
    if (opts.containsKey("url")) {
      if (opts.containsKey("transports")) throw new IllegalArgumentException("--transports starts servers: not with --url");
      if (opt("scenarios", "").contains("cluster")) throw new IllegalArgumentException("cluster starts servers: not with --url");
      boolean https = URI.create(opts.get("url")).getScheme().equals("https");
      if (https && !opts.containsKey("ca-file")) throw new IllegalArgumentException("an https --url needs --ca-file");
      transports = List.of(https ? "tls" : "plain");
      serverPair = null;
      trust = https ? SessionPerEngine.create(TestCerts.trustManagers(Path.of(opts.get("ca-file")))) : null;
    } else {
      transports = List.of(opt("transports", "plain").split(","));
      for (String t : transports) {
        if (!t.equals("plain") && !t.equals("tls")) throw new IllegalArgumentException("transport " + t + ": plain or tls");
      }
      if (transports.contains("tls")) {
        TestCerts.Alg alg = TestCerts.Alg.valueOf(opt("tls-key", "ec").toUpperCase(Locale.ROOT));
        TestCerts ca = TestCerts.authority(Files.createTempDirectory("rm-load-tls-"), "load");
        serverPair = ca.server(alg);
        trust = SessionPerEngine.create(TestCerts.trustManagers(ca.caCert()));
      } else {
        serverPair = null;
        trust = null;
      }
    }
    http = client(Duration.ofSeconds(10));
    for (int i = 0; i < 4; i++) wsClients.add(client(Duration.ofSeconds(30)));
    AtomicLong tick = new AtomicLong();
    // Each agent sends a heartbeat every 25 s, well inside the server's 90 s silence deadline.
    heartbeats.scheduleAtFixedRate(() -> {
      long t = tick.getAndIncrement() % 25;
      List<LoadAgent> agents;
      synchronized (live) {
        agents = new ArrayList<>(live);
      }
      for (int i = 0; i < agents.size(); i++) if (i % 25 == t) agents.get(i).heartbeat();
    }, 1, 1, TimeUnit.SECONDS);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (String a : args) {
      if (a.equals("--help") || !a.startsWith("--")) {
        System.out.println("""
            LoadTool options (all optional):
              --scenarios=idle,throughput,metrics   what to measure; cluster: nodes on PostgreSQL (below); history:
                                                    ingestion while old jobs are deleted (below)
              --idle-levels=1000,5000,10000         agents connected at each heap reading
              --small-fleet=1000                    hosts of the fleet used for /metrics and throughput
              --throughput-agents=100 --in-flight=8 --warmup-seconds=5 --seconds=20
              --scrapes=100 --gzip-scrapes=100
              --scrape-client=raw                   raw: a lean keep-alive reader (Scraper); jdk: java.net.http
              --transports=plain                    a round of the scenarios per entry, new servers each:
                                                    plain (HTTP, WS) or tls (HTTPS, WSS), e.g. plain,tls,plain,tls
              --tls-key=ec                          the tls rounds' server key: ec (P-256) or rsa (2048 bits)
              --server-jar=target/restic-manager.jar --server-heap=1g --data-dir=<temp dir>
              --server-java=<this JVM's java>       the java binary that runs the server (its jcmd reads the heap)
              --server-jvm-args="-XX:StartFlightRecording=filename=/tmp/{name}.jfr"   extra JVM options of the server
              --history-modes=keep,prune,keep,prune   history scenario: a server per entry on a database holding
              --history-jobs=1000000                old jobs; prune deletes them (RM_JOBS_RETENTION=30d) meanwhile
              --cluster-nodes=1,3                   cluster scenario: a cluster of each size in turn (PostgreSQL at
                                                    RM_TEST_PG_URL, default 127.0.0.1:5432/test, a schema made and
                                                    dropped per cluster); more than one node: kill -9 of the first
              --cluster-hosts=<largest idle level>  the cluster's fleet
              --heal-timeout-seconds=300            how long to wait for every host online after the kill
              --histogram=true                      class histogram diff of the server at the largest idle level
              --histogram-out=FILE                  the whole diff (instances and bytes per connection, class)
              --url=http://127.0.0.1:8080 --admin-token=T --metrics-token=T --server-pid=PID   target a running server
              --ca-file=PEM                         what to trust for an https --url
              --hold-seconds=N                      keep the large fleet up N s (max 1800) for manual probes
              --out=FILE                            also write the Markdown report there""");
        return;
      }
      int eq = a.indexOf('=');
      opts.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "true" : a.substring(eq + 1));
    }
    LoadTool tool = new LoadTool(opts);
    try {
      tool.run();
    } finally {
      tool.heartbeats.shutdownNow();
    }
    System.exit(0);
  }

  private String opt(String name, String dflt) {
    return opts.getOrDefault(name, dflt);
  }

  private int intOpt(String name, int dflt) {
    return Integer.parseInt(opt(name, Integer.toString(dflt)));
  }

  private HttpClient client(Duration connectTimeout) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout);
    if (trust != null) b.sslContext(trust);
    return b.build();
  }

  private void run() throws Exception {
    List<String> scenarios = Arrays.asList(opt("scenarios", "idle,throughput,metrics").split(","));
    int[] idleLevels = Arrays.stream(opt("idle-levels", "1000,5000,10000").split(",")).mapToInt(Integer::parseInt)
        .sorted().toArray();
    int small = intOpt("small-fleet", 1000);
    long fdLimit = ((UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
    line("# restic-manager load run");
    line("");
    line("- machine: " + Runtime.getRuntime().availableProcessors() + " cores, Java " + System.getProperty("java.version")
        + ", load tool fd limit " + fdLimit);
    line("- options: " + new TreeMap<>(opts));
    if (serverPair != null) {
      line("- TLS rounds: a server certificate for 127.0.0.1 with an "
          + (opt("tls-key", "ec").equalsIgnoreCase("rsa") ? "RSA 2048" : "EC P-256") + " key from an RSA CA made for this run;"
          + " every connection makes a full handshake (no session resumed)");
    }
    for (String transport : transports) {
      round = new Round(rounds.size() + 1, transport);
      rounds.add(round);
      if (transports.size() > 1) {
        line("");
        line("# Round " + round.number + " of " + transports.size() + ": " + round.label());
        progress("round " + round.number + " of " + transports.size() + ": " + round.label());
      }
      runRound(scenarios, idleLevels, small, fdLimit);
    }
    if (rounds.size() > 1) compareRounds();
    if (clusters.size() > 1) compareClusters();
    String out = opts.get("out");
    if (out != null) Files.writeString(Path.of(out), report);
    System.out.println();
    System.out.println(report);
  }

  private void runRound(List<String> scenarios, int[] idleLevels, int small, long fdLimit) throws Exception {
    if (scenarios.contains("metrics") || scenarios.contains("throughput")) {
      try (ServerUnderTest server = server("small")) {
        List<LoadAgent> agents = enrollAndConnect(List.of(server), small);
        if (scenarios.contains("metrics")) {
          populate(agents);
          round.scrapes.put(small, metrics(server, fleetOf(small), small));
        }
        if (scenarios.contains("throughput")) {
          Throughput t = throughput(List.of(server), agents, "SQLite, synchronous=FULL");
          round.ackedPerSecond = t.rate();
          round.cpuPerJobMicros = t.cpuPerJobMicros();
          round.loadToolCores = t.loadToolCores();
        }
        disconnect(agents);
      }
    }
    if (scenarios.contains("idle") || scenarios.contains("metrics")) {
      int large = idleLevels[idleLevels.length - 1];
      if (large + 200 > fdLimit) line("\n**warning**: fd limit " + fdLimit + " is below " + large + " connections");
      try (ServerUnderTest server = server("large")) {
        List<LoadAgent> agents = idle(server, scenarios.contains("idle") ? idleLevels : new int[] {large});
        if (scenarios.contains("metrics") && large != small) {
          populate(agents);
          round.scrapes.put(large, metrics(server, fleetOf(large), large));
        }
        hold(server);
        disconnect(agents);
      }
    }
    if (scenarios.contains("history")) history();
    if (scenarios.contains("cluster")) {
      int hosts = intOpt("cluster-hosts", idleLevels[idleLevels.length - 1]);
      for (String n : opt("cluster-nodes", "1,3").split(",")) cluster(Integer.parseInt(n.trim()), hosts);
    }
  }

  private static String fleetOf(int hosts) {
    return String.format(Locale.ROOT, "with %,d hosts", hosts);
  }

  private ServerUnderTest server(String fleet) throws Exception {
    hostSeq.set(0);
    if (opts.containsKey("url")) {
      return ServerUnderTest.target(URI.create(opt("url", "")), opt("admin-token", ""), opt("metrics-token", ""),
          trust, Long.parseLong(opt("server-pid", "0")));
    }
    return spawn(transports.size() == 1 ? fleet : fleet + "-" + round.number + "-" + round.transport, Map.of());
  }

  /**
   * A child server on a fresh data dir, {@code env} laid over its variables; {@code name} names the data dir
   * and is the {@code {name}} of {@code --server-jvm-args}.
   */
  private ServerUnderTest spawn(String name, Map<String, String> env) throws Exception {
    return spawn(newDataDir(name), name, env);
  }

  private Path newDataDir(String name) throws IOException {
    return opts.containsKey("data-dir")
        ? Path.of(opt("data-dir", "")).resolve(name)
        : Files.createTempDirectory("rm-load-" + name + "-");
  }

  /** A child server on {@code dataDir}, which may hold a database from an earlier child. */
  private ServerUnderTest spawn(Path dataDir, String name, Map<String, String> env) throws Exception {
    String heap = opt("server-heap", "1g");
    List<String> jvm = new ArrayList<>(List.of("-Xms" + heap, "-Xmx" + heap));
    String extra = opt("server-jvm-args", "");
    if (!extra.isBlank()) jvm.addAll(Arrays.asList(extra.replace("{name}", name).trim().split("\\s+")));
    Path java = Path.of(opt("server-java", Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    ServerUnderTest s = ServerUnderTest.spawn(java, Path.of(opt("server-jar", "target/restic-manager.jar")), dataDir,
        jvm, env, round.tls() ? serverPair : null, trust);
    progress("server " + name + " up at " + s.base + " (data " + dataDir + ", heap " + heap + ")");
    return s;
  }

  // ------------------------------------------------------------------------------------------ enrolment

  /** Enrolls {@code n} new hosts through the real API, 16 requests in flight, round-robin over {@code nodes}. */
  private List<String[]> enroll(List<ServerUnderTest> nodes, int n) throws Exception {
    long t0 = System.nanoTime();
    Semaphore window = new Semaphore(16);
    List<CompletableFuture<String[]>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      window.acquire();
      String hostname = String.format("host-%05d.backup.example.net", hostSeq.getAndIncrement());
      ServerUnderTest server = nodes.get(i % nodes.size());
      CompletableFuture<String[]> f = post(server, "/api/v1/enrollment-tokens", server.adminToken, "{\"ttl_seconds\":3600}", 201)
          .thenCompose(body -> post(server, "/api/v1/agents/enroll", null,
              "{\"enrollment_token\":\"" + field(body, "token") + "\",\"hostname\":\"" + hostname + "\"}", 201))
          .thenApply(body -> new String[] {hostname, field(body, "agent_token")});
      f.whenComplete((r, e) -> window.release());
      all.add(f);
    }
    List<String[]> out = new ArrayList<>(n);
    for (CompletableFuture<String[]> f : all) out.add(f.get(120, TimeUnit.SECONDS));
    progress(String.format("enrolled %d hosts in %.1f s", n, (System.nanoTime() - t0) / 1e9));
    return out;
  }

  private CompletableFuture<String> post(ServerUnderTest server, String path, String bearer, String body, int expect) {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.base.resolve(path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      if (r.statusCode() != expect) throw new IllegalStateException(path + " -> " + r.statusCode() + " " + r.body());
      return r.body();
    });
  }

  private static String field(String json, String name) {
    Matcher m = FIELD.matcher(json);
    while (m.find()) if (m.group(1).equals(name)) return m.group(2);
    throw new IllegalStateException("no " + name + " in " + json);
  }

  /** Agents connected by one {@link #connect}, the wall time it took and the CPU the server spent meanwhile. */
  private record Connected(List<LoadAgent> agents, double seconds, double serverCpuSeconds) {}

  /**
   * Opens a WebSocket per host and completes the hello/welcome exchange, 100 handshakes (TCP, TLS when the
   * server speaks it, the WebSocket upgrade, hello and welcome) in flight. Agent {@code i} connects to node
   * {@code i % nodes.size()}; with more than one node every agent reconnects among them when its socket closes.
   */
  private Connected connect(List<ServerUnderTest> nodes, List<String[]> hosts) throws Exception {
    long[] cpu0 = cpuTicks(nodes);
    List<URI> endpoints = nodes.stream().map(ServerUnderTest::wsUri).toList();
    long t0 = System.nanoTime();
    Semaphore window = new Semaphore(100);
    List<LoadAgent> agents = new ArrayList<>(hosts.size());
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < hosts.size(); i++) {
      window.acquire();
      LoadAgent a = new LoadAgent(hosts.get(i)[0], hosts.get(i)[1]);
      CompletableFuture<Void> f = a.connect(wsClients.get(i % wsClients.size()), endpoints.get(i % endpoints.size()));
      if (endpoints.size() > 1) a.reconnectAmong(endpoints);
      f.whenComplete((r, e) -> {
        window.release();
        // Heartbeats start at once: connecting 10,000 agents can take longer than the 90 s deadline.
        if (e == null) {
          synchronized (live) {
            live.add(a);
          }
        }
      });
      agents.add(a);
      all.add(f);
    }
    for (CompletableFuture<Void> f : all) f.get(120, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - t0) / 1e9;
    long[] cpu1 = cpuTicks(nodes);
    double cpu = cpu0 == null || cpu1 == null ? Double.NaN : (cpu1[0] - cpu0[0]) / 100.0;
    progress(String.format(Locale.ROOT, "connected %d agents in %.1f s, server CPU %.1f s", hosts.size(), seconds, cpu));
    return new Connected(agents, seconds, cpu);
  }

  private List<LoadAgent> enrollAndConnect(List<ServerUnderTest> nodes, int n) throws Exception {
    return connect(nodes, enroll(nodes, n)).agents();
  }

  private void disconnect(List<LoadAgent> agents) {
    synchronized (live) {
      live.removeAll(new HashSet<>(agents));
    }
    for (LoadAgent a : agents) a.close();
  }

  // ------------------------------------------------------------------------------------------ idle heap

  /**
   * Waits (up to a minute) until the server's {@code restic_manager_hosts} counts {@code n} hosts, so that the
   * heap read before any agent connects holds every host's state (a cluster's host entities start after
   * enrolment, each loading its host).
   */
  private static void awaitHostsShown(ServerUnderTest server, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (server.api().metrics().named("restic_manager_hosts").stream().mapToDouble(s -> s.number()).sum() < n) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("the server never showed " + n + " hosts");
      Thread.sleep(500);
    }
  }

  private List<LoadAgent> idle(ServerUnderTest server, int[] levels) throws Exception {
    int max = levels[levels.length - 1];
    List<String[]> hosts = enroll(List.of(server), max);
    awaitHostsShown(server, max);
    long closedBefore = LoadAgent.CLOSED.get();
    List<LoadAgent> agents = new ArrayList<>();
    boolean heap = server.canMeasureHeap();
    long base = heap ? server.heapUsedAfterGc() : 0;
    long baseRss = heap ? server.rssBytes() : 0;
    boolean histogram = heap && Boolean.parseBoolean(opt("histogram", "false"));
    Map<String, long[]> before = histogram ? server.classHistogram() : null;
    line("");
    line("## Heap per idle agent connection");
    line("");
    line(String.format(Locale.ROOT, "%d hosts enrolled, none connected: server heap after full GC %.1f MiB, RSS %.1f MiB.",
        max, base / 1048576.0, baseRss / 1048576.0));
    round.heapEnrolledMiB = base / 1048576.0;
    line("");
    line("| agents connected | heap after GC (MiB) | delta (MiB) | per connection (KiB) | RSS (MiB) | RSS per connection (KiB) |"
        + " goal |");
    line("|---:|---:|---:|---:|---:|---:|---|");
    double connectSeconds = 0;
    double connectCpu = 0;
    for (int level : levels) {
      Connected step = connect(List.of(server), hosts.subList(agents.size(), level));
      agents.addAll(step.agents());
      connectSeconds += step.seconds();
      connectCpu += step.serverCpuSeconds();
      Thread.sleep(2000);
      if (!heap) {
        line("| " + level + " | n/a (no server pid) | | | | | ≤ 50 KiB |");
        continue;
      }
      long used = server.heapUsedAfterGc();
      long rss = server.rssBytes();
      double perConn = (used - base) / 1024.0 / level;
      round.heapPerConnectionKiB = perConn;
      round.rssPerConnectionKiB = (rss - baseRss) / 1024.0 / level;
      line(String.format(Locale.ROOT, "| %,d | %.1f | %.1f | %.1f | %.1f | %.1f | ≤ 50 KiB: %s |", level, used / 1048576.0,
          (used - base) / 1048576.0, perConn, rss / 1048576.0, round.rssPerConnectionKiB, perConn <= 50 ? "met" : "missed"));
      progress(String.format(Locale.ROOT, "%d connected: %.1f KiB per connection", level, perConn));
    }
    line("");
    line(String.format(Locale.ROOT, "Connecting the %,d agents (100 at a time, over %s) took %.1f s, and the server %.1f s"
        + " of CPU: %.0f µs per agent.", max, round.tls() ? "TLS" : "plain TCP", connectSeconds, connectCpu,
        connectCpu * 1e6 / max));
    round.connectSeconds = connectSeconds;
    round.connectCpuSeconds = connectCpu;
    line("");
    line("Agent connections closed by the server while measuring: " + (LoadAgent.CLOSED.get() - closedBefore) + ".");
    if (histogram) {
      Map<String, long[]> after = server.classHistogram();
      List<Map.Entry<String, long[]>> diff = new ArrayList<>();
      for (Map.Entry<String, long[]> e : after.entrySet()) {
        long[] b = before.getOrDefault(e.getKey(), new long[2]);
        diff.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
      }
      diff.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
      String full = opts.get("histogram-out");
      if (full != null) {
        StringBuilder all = new StringBuilder();
        for (Map.Entry<String, long[]> e : diff) {
          all.append(String.format(Locale.ROOT, "%.2f\t%.0f\t%s%n", e.getValue()[0] / (double) max,
              e.getValue()[1] / (double) max, e.getKey()));
        }
        Files.writeString(Path.of(full), all);
      }
      line("");
      line("Largest growth by class between no connection and " + max + " connections (live objects):");
      line("");
      line("| class | instances per connection | bytes per connection |");
      line("|---|---:|---:|");
      for (Map.Entry<String, long[]> e : diff.subList(0, Math.min(25, diff.size()))) {
        line(String.format(Locale.ROOT, "| `%s` | %.1f | %.0f |", e.getKey(), e.getValue()[0] / (double) max,
            e.getValue()[1] / (double) max));
      }
    }
    return agents;
  }

  // ------------------------------------------------------------------------------------------ jobs

  /** Every agent runs a backup, a check and a forget (all acked) so that /metrics has job series. */
  private void populate(List<LoadAgent> agents) throws Exception {
    long t0 = System.nanoTime();
    for (int from = 0; from < agents.size(); from += 500) {
      List<LoadAgent> wave = agents.subList(from, Math.min(agents.size(), from + 500));
      for (LoadAgent a : wave) {
        a.runJob("backup", "succeeded", 1_000_000L + a.hostname.hashCode() % 1000);
        a.runJob("check", "succeeded", 0);
        a.runJob("forget", "succeeded", 0);
      }
      awaitNoneInFlight(wave, Duration.ofSeconds(120));
    }
    progress(String.format("populated %d hosts with 3 jobs each in %.1f s", agents.size(),
        (System.nanoTime() - t0) / 1e9));
  }

  private static void awaitNoneInFlight(List<LoadAgent> agents, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      int n = 0;
      for (LoadAgent a : agents) n += a.inFlight();
      if (n == 0) return;
      Thread.sleep(20);
    }
    throw new IllegalStateException("jobs still unacked after " + timeout);
  }

  /** What a throughput run measured: acked job.finished/s, the servers' CPU (cores, µs per job), the load tool's. */
  private record Throughput(double rate, double cores, double cpuPerJobMicros, double loadToolCores, double p50,
      double p99, double max) {}

  /**
   * The first {@code --throughput-agents} of {@code all} run jobs back to back, {@code --in-flight} each;
   * the servers' CPU is summed over {@code nodes}. {@code db} names the database in the report.
   */
  private Throughput throughput(List<ServerUnderTest> nodes, List<LoadAgent> all, String db) throws Exception {
    int n = Math.min(all.size(), intOpt("throughput-agents", 100));
    int inFlight = intOpt("in-flight", 8);
    int warmup = intOpt("warmup-seconds", 5);
    int seconds = intOpt("seconds", 20);
    List<LoadAgent> agents = all.subList(0, n);
    Latencies latencies = new Latencies();
    AtomicLong acked = new AtomicLong();
    long[] window = new long[2];
    boolean[] running = {true};
    long t0 = System.nanoTime();
    window[0] = t0 + TimeUnit.SECONDS.toNanos(warmup);
    window[1] = window[0] + TimeUnit.SECONDS.toNanos(seconds);
    LoadAgent.AckListener listener = (agent, job, nanos) -> {
      long now = System.nanoTime();
      if (now >= window[0] && now < window[1]) {
        acked.incrementAndGet();
        latencies.add(nanos);
      }
      if (running[0] && now < window[1]) agent.runJob("backup", "succeeded", 4096);
    };
    long errorsBefore = LoadAgent.ERRORS.get();
    long[] cpu0 = cpuTicks(nodes);
    long selfCpu0 = selfCpuNanos();
    long wall0 = System.nanoTime();
    for (LoadAgent a : agents) {
      a.ackListener = listener;
      for (int k = 0; k < inFlight; k++) a.runJob("backup", "succeeded", 4096);
    }
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(window[1] - System.nanoTime()) + 1);
    running[0] = false;
    long[] cpu1 = cpuTicks(nodes);
    long selfCpu1 = selfCpuNanos();
    long wall1 = System.nanoTime();
    awaitNoneInFlight(agents, Duration.ofSeconds(60));
    for (LoadAgent a : agents) a.ackListener = null;
    double rate = acked.get() / (double) seconds;
    line("");
    line("## Acked job.finished per second (" + db + ", durable acks)");
    line("");
    line(String.format(Locale.ROOT, "%d agents, %d jobs in flight each (job.started and job.finished sent back to"
        + " back, the next job started on the ack of job.finished), %d s warm-up, %d s measured.", n, inFlight,
        warmup, seconds) + (nodes.size() > 1 ? " Server CPU summed over the " + nodes.size() + " nodes." : ""));
    line("");
    line("| acked job.finished/s | ack p50 (ms) | ack p99 (ms) | ack max (ms) | error frames | server CPU (cores) |"
        + " server CPU per job (µs) | load tool CPU (cores) | goal |");
    line("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    double cores = cpu0 == null || cpu1 == null ? Double.NaN
        : (cpu1[0] - cpu0[0]) / 100.0 / ((cpu1[1] - cpu0[1]) / 1e9);
    double perJob = rate == 0 ? Double.NaN : cores * 1e6 / rate;
    double self = (selfCpu1 - selfCpu0) / (double) (wall1 - wall0);
    line(String.format(Locale.ROOT, "| %,.0f | %.1f | %.1f | %.1f | %d | %s | %s | %.2f | ≥ 5,000/s: %s |", rate,
        latencies.percentileMillis(50), latencies.percentileMillis(99), latencies.maxMillis(),
        LoadAgent.ERRORS.get() - errorsBefore, orNa("%.2f", cores), orNa("%.0f", perJob), self,
        rate >= 5000 ? "met" : "missed"));
    progress(String.format(Locale.ROOT, "throughput %.0f acked job.finished/s", rate));
    return new Throughput(rate, cores, perJob, self, latencies.percentileMillis(50),
        latencies.percentileMillis(99), latencies.maxMillis());
  }

  // ------------------------------------------------------------------------------------------ history

  /**
   * Whether deleting old jobs moves ingestion: per entry of {@code --history-modes} (default
   * {@code keep,prune,keep,prune}) a new SQLite server whose database holds {@code --history-jobs} (default
   * 1,000,000) finished jobs of its {@code --small-fleet}... hosts, 100 to 400 days old, then the throughput run.
   * {@code keep} runs with {@code RM_JOBS_RETENTION=0}; {@code prune} with {@code 30d}, its pruner's first
   * sweep (30 s after start) deleting that backlog while the throughput run is measured. The jobs are written
   * straight into the database while no server runs (the hosts were enrolled through the API by a first
   * child on the same data dir); the report counts the jobs deleted during the measured window.
   */
  private void history() throws Exception {
    int hosts = intOpt("throughput-agents", 100);
    int jobs = intOpt("history-jobs", 1_000_000);
    List<String[]> rows = new ArrayList<>();
    for (String mode : opt("history-modes", "keep,prune,keep,prune").split(",")) {
      boolean prune = mode.trim().equals("prune");
      String name = "history-" + (rows.size() + 1) + "-" + mode.trim();
      Path dataDir = newDataDir(name);
      hostSeq.set(0);
      List<String[]> enrolled;
      try (ServerUnderTest first = spawn(dataDir, name + "-enrol", Map.of("RM_JOBS_RETENTION", "0"))) {
        enrolled = enroll(List.of(first), hosts);
      }
      Path db = dataDir.resolve("restic-manager.db");
      fillHistory(db, jobs);
      try (ServerUnderTest server = spawn(dataDir, name, Map.of("RM_JOBS_RETENTION", prune ? "30d" : "0"))) {
        long started = System.nanoTime();
        List<LoadAgent> agents = connect(List.of(server), enrolled).agents();
        if (prune) {
          long deadline = started + TimeUnit.SECONDS.toNanos(120);
          while (countJobs(db) >= jobs && System.nanoTime() < deadline) Thread.sleep(500);
        } else {
          Thread.sleep(Math.max(0, TimeUnit.SECONDS.toMillis(32) - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
        }
        long before = countJobs(db);
        Throughput t = throughput(List.of(server), agents, "SQLite, " + (prune
            ? "RM_JOBS_RETENTION=30d, deleting a backlog of " + String.format(Locale.ROOT, "%,d", jobs) + " old jobs"
            : "RM_JOBS_RETENTION=0, " + String.format(Locale.ROOT, "%,d", jobs) + " old jobs kept"));
        long after = countJobs(db);
        rows.add(new String[] {mode.trim(), String.format(Locale.ROOT, "%,.0f", t.rate()),
            String.format(Locale.ROOT, "%.1f", t.p50()), String.format(Locale.ROOT, "%.1f", t.p99()),
            String.format(Locale.ROOT, "%.1f", t.max()), orNa("%.0f", t.cpuPerJobMicros()),
            String.format(Locale.ROOT, "%,d", before - after)});
        disconnect(agents);
      }
    }
    line("");
    line("## Ingestion while old jobs are deleted");
    line("");
    line(String.format(Locale.ROOT, "%d agents against a SQLite database holding %,d finished jobs 100 to 400 days old;"
        + " keep: RM_JOBS_RETENTION=0, prune: 30d, the pruner deleting them (500 a transaction, then a pause of at"
        + " least 50 ms and three times the step) during the measured window. Old jobs deleted: during the"
        + " throughput run's %s s (warm-up and measured window).", hosts, jobs,
        opt("warmup-seconds", "5") + " + " + opt("seconds", "20")));
    line("");
    line("| mode | acked job.finished/s | ack p50 (ms) | ack p99 (ms) | ack max (ms) | server CPU per job (µs) | old jobs deleted |");
    line("|---|---:|---:|---:|---:|---:|---:|");
    for (String[] r : rows) line("| " + String.join(" | ", r) + " |");
  }

  /**
   * Writes {@code n} finished backup jobs, spread evenly over the hosts in {@code db}, 100 to 400 days old,
   * most succeeded; a server must not be running on it.
   */
  private static void fillHistory(Path db, int n) throws Exception {
    long t0 = System.nanoTime();
    long now = System.currentTimeMillis();
    long day = TimeUnit.DAYS.toMillis(1);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      List<String> hostIds = new ArrayList<>();
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM hosts ORDER BY id")) {
        while (rs.next()) hostIds.add(rs.getString(1));
      }
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jobs (id, host_id, kind, status, started_at,"
          + " finished_at, exit_code, duration_seconds, data_added) VALUES (?, ?, 'backup', ?, ?, ?, ?, 60, 4096)")) {
        for (int i = 0; i < n; i++) {
          long start = now - 400 * day + (long) i * (300 * day / n);
          boolean failed = i % 50 == 0;
          ps.setString(1, UUID.randomUUID().toString());
          ps.setString(2, hostIds.get(i % hostIds.size()));
          ps.setString(3, failed ? "failed" : "succeeded");
          ps.setLong(4, start);
          ps.setLong(5, start + 60_000);
          ps.setInt(6, failed ? 1 : 0);
          ps.addBatch();
          if (i % 10_000 == 9_999) ps.executeBatch();
          if (i % 200_000 == 199_999) c.commit();
        }
        ps.executeBatch();
        c.commit();
      }
    }
    progress(String.format(Locale.ROOT, "wrote %,d old jobs in %.1f s", n, (System.nanoTime() - t0) / 1e9));
  }

  /** The jobs in {@code db} that {@link #fillHistory} wrote (all older than 100 days; the run's own jobs are new). */
  private static long countJobs(Path db) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM jobs WHERE started_at < "
            + (System.currentTimeMillis() - TimeUnit.DAYS.toMillis(50)))) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long selfCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** utime+stime of the server processes together in clock ticks (100 Hz) and the time read; null if unknown. */
  private static long[] cpuTicks(List<ServerUnderTest> servers) {
    long ticks = 0;
    try {
      for (ServerUnderTest server : servers) {
        long pid = server.pid();
        if (pid <= 0) return null;
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      }
    } catch (Exception e) {
      return null;
    }
    return new long[] {ticks, System.nanoTime()};
  }

  // ------------------------------------------------------------------------------------------ cluster

  /**
   * One entry of {@code --cluster-nodes}: {@code n} nodes of the server jar as child JVMs on loopback, on one
   * PostgreSQL schema made for them (and dropped after), each with its own HTTP and cluster port, all listed
   * as seeds; the first is started first. {@code hosts} hosts enrolled round-robin over the nodes and their
   * agents connected the same way (each reconnecting to another node, at random, when its socket closes);
   * every host runs three jobs, then each node's /metrics is scraped and the throughput run spreads its agents
   * over the nodes (the nodes' CPU summed). With more than one node, {@link #heal} kills the first.
   */
  private void cluster(int n, int hosts) throws Exception {
    hostSeq.set(0);
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    List<ServerUnderTest> nodes = new ArrayList<>();
    List<LoadAgent> agents = List.of();
    line("");
    line("# " + (n == 1 ? "One node" : "A cluster of " + n + " nodes") + " on PostgreSQL, " + fleetOf(hosts));
    progress("cluster of " + n + " on " + pg.url());
    try {
      List<String> seeds = new ArrayList<>();
      for (int i = 0; i < n; i++) seeds.add("127.0.0.1:" + TestServer.freePort());
      Map<String, String> env = new HashMap<>(Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user(),
          "RM_ADMIN_TOKEN", "load-admin-" + UUID.randomUUID(), "RM_METRICS_TOKEN", "load-metrics-" + UUID.randomUUID(),
          "RM_CLUSTER_SEED_NODES", String.join(",", seeds)));
      for (int i = 0; i < n; i++) {
        env.put("RM_CLUSTER_PORT", seeds.get(i).substring(seeds.get(i).indexOf(':') + 1));
        nodes.add(spawn("cluster" + n + "-" + round.number + "-" + clusters.size() + "-node" + i, env));
      }
      awaitMembersUp(nodes, n);
      agents = connect(nodes, enroll(nodes, hosts)).agents();
      populate(agents);
      ClusterRun run = new ClusterRun(n);
      for (int i = 0; i < n; i++) {
        int here = hostsShown(nodes.get(i)).size();
        run.scrapes.add(metrics(nodes.get(i), String.format(Locale.ROOT, "on node %d of %d (%,d hosts in the fleet, %,d of"
            + " them on this node)", i, n, hosts, here), hosts));
      }
      run.throughput = throughput(nodes, agents, "PostgreSQL, " + (n == 1 ? "one node" : n + " nodes"));
      if (n > 1) heal(nodes, agents, hosts, pg, run);
      clusters.add(run);
    } finally {
      disconnect(agents);
      nodes.forEach(ServerUnderTest::terminate);
      for (ServerUnderTest node : nodes) node.close();
      TestDatabases.dropPostgresSchema(pg);
    }
  }

  /** What one entry of {@code --cluster-nodes} measured, for {@link #compareClusters}. */
  private static final class ClusterRun {
    final int nodes;
    Throughput throughput;
    /** Per node: p50 and p99 of identity, then of gzip, in ms. */
    final List<double[]> scrapes = new ArrayList<>();
    /** Seconds from kill -9 to: survivors see it gone, every agent welcomed again, every host online. */
    double removed = Double.NaN;
    double reconnected = Double.NaN;
    double healed = Double.NaN;
    /** Per survivor, the hosts its host list showed online after the heal. */
    String listed = "n/a";
    /** job.finished acked from 10 s before the kill until the end, and how many of them the database lacks. */
    long acked = -1;
    long lost = -1;

    ClusterRun(int nodes) {
      this.nodes = nodes;
    }
  }

  private static void awaitMembersUp(List<ServerUnderTest> nodes, int up) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    for (ServerUnderTest node : nodes) {
      while (node.api().metrics().one("restic_manager_cluster_members", Map.of("status", "up")).number() != up) {
        if (System.nanoTime() > deadline) throw new IllegalStateException(node.base + " never saw " + up + " members up");
        Thread.sleep(500);
      }
    }
  }

  /**
   * kill -9 of the first node (the oldest, which also runs the shard coordinator) while the throughput agents
   * stream jobs, 10 s after they start. Every second, each surviving node's /metrics (gzip) is read: when
   * its members up are one fewer, and when the hosts they show online ({@code restic_manager_host_online} 1)
   * together cover the fleet: healed. Then 10 s more of jobs, each survivor's {@code GET /api/v1/hosts}
   * (how many hosts it lists online), and every job.finished acked since the start of streaming is looked
   * up in the database.
   */
  private void heal(List<ServerUnderTest> nodes, List<LoadAgent> agents, int hosts, Settings.Db pg, ClusterRun run)
      throws Exception {
    List<LoadAgent> streaming = agents.subList(0, Math.min(agents.size(), intOpt("throughput-agents", 100)));
    Set<String> acked = ConcurrentHashMap.newKeySet();
    boolean[] running = {true};
    long start = System.nanoTime();
    AtomicLongArray perSecond = new AtomicLongArray(600);
    LoadAgent.AckListener listener = (agent, job, nanos) -> {
      acked.add(job);
      perSecond.incrementAndGet((int) Math.min(599, (System.nanoTime() - start) / 1_000_000_000L));
      if (running[0]) agent.runJob("backup", "succeeded", 4096);
    };
    long errorsBefore = LoadAgent.ERRORS.get();
    long reconnectsBefore = LoadAgent.RECONNECTED.get();
    for (LoadAgent a : streaming) {
      a.ackListener = listener;
      for (int k = 0; k < intOpt("in-flight", 8); k++) a.runJob("backup", "succeeded", 4096);
    }
    Thread.sleep(10_000);
    ServerUnderTest victim = nodes.get(0);
    List<ServerUnderTest> survivors = nodes.subList(1, nodes.size());
    long killedAt = System.nanoTime();
    victim.kill9();
    progress("kill -9 of node 0 (pid " + victim.pid() + ")");
    double removed = Double.NaN;
    double healed = Double.NaN;
    double reconnected = Double.NaN;
    long deadline = killedAt + TimeUnit.SECONDS.toNanos(intOpt("heal-timeout-seconds", 300));
    while (Double.isNaN(healed) && System.nanoTime() < deadline) {
      long tick = System.nanoTime();
      double t = (tick - killedAt) / 1e9;
      long back = agents.stream().filter(LoadAgent::connected).count();
      if (Double.isNaN(reconnected) && back == agents.size()) reconnected = t;
      Set<String> shown = new HashSet<>();
      int seeingIt = 0;
      for (ServerUnderTest s : survivors) {
        String text = scrapeText(s);
        shown.addAll(hostsWith(text, "1"));
        if (text.contains("restic_manager_cluster_members{status=\"up\"} " + survivors.size() + "\n")) seeingIt++;
      }
      if (Double.isNaN(removed) && seeingIt == survivors.size()) removed = t;
      if (shown.size() == hosts) healed = t;
      progress(String.format(Locale.ROOT, "%5.1f s after the kill: %,d agents connected, %,d hosts online in the"
          + " survivors' /metrics, members removed: %s", t, back, shown.size(), !Double.isNaN(removed)));
      Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - tick) / 1_000_000));
    }
    long healedAt = System.nanoTime();
    Thread.sleep(10_000);
    running[0] = false;
    long stoppedAt = System.nanoTime();
    List<String> listed = new ArrayList<>();
    for (ServerUnderTest s : survivors) listed.add(String.format(Locale.ROOT, "%,d", listedOnline(s)));
    awaitNoneInFlight(streaming, Duration.ofSeconds(120));
    for (LoadAgent a : streaming) a.ackListener = null;
    Set<String> stored = new HashSet<>();
    try (Connection c = DriverManager.getConnection(pg.url(), pg.user(), "");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM jobs WHERE finished_at IS NOT NULL")) {
      while (rs.next()) stored.add(rs.getString(1));
    }
    long lost = acked.stream().filter(id -> !stored.contains(id)).count();
    run.removed = removed;
    run.reconnected = reconnected;
    run.healed = healed;
    run.listed = String.join(", ", listed);
    run.acked = acked.size();
    run.lost = lost;
    int killSecond = (int) ((killedAt - start) / 1_000_000_000L);
    int healSecond = (int) Math.min(599, (healedAt - start) / 1_000_000_000L);
    line("");
    line("## kill -9 of node 0 while " + streaming.size() + " agents stream jobs");
    line("");
    line("Node 0 is the oldest member and runs the shard coordinator. Each survivor's /metrics polled every second;"
        + " its host list (`GET /api/v1/hosts`) read once, 10 s after every host was online in /metrics.");
    line("");
    line("| survivors see it removed | every agent welcomed again | every host online in the survivors' /metrics"
        + " (healed) | agents reconnected | hosts each survivor's host list shows online |");
    line("|---:|---:|---:|---:|---:|");
    line(String.format(Locale.ROOT, "| %s | %s | %s | %d | %s of %,d |", seconds(removed), seconds(reconnected),
        seconds(healed), LoadAgent.RECONNECTED.get() - reconnectsBefore, run.listed, hosts));
    line("");
    line(String.format(Locale.ROOT, "Acked job.finished/s: %.0f in the 10 s before the kill, %.0f from the kill until"
        + " healed, %.0f in the 10 s after. Acked since streaming began: %,d; of them not stored as finished in the"
        + " database: **%d**. Error frames: %d.", rate(perSecond, 0, killSecond), rate(perSecond, killSecond, healSecond),
        rate(perSecond, healSecond, (int) Math.min(599, (stoppedAt - start) / 1_000_000_000L)), acked.size(), lost,
        LoadAgent.ERRORS.get() - errorsBefore));
    progress("healed in " + seconds(healed) + "; acked " + acked.size() + ", lost " + lost);
  }

  /** Mean of {@code perSecond} over the whole seconds [from, to). */
  private static double rate(AtomicLongArray perSecond, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) sum += perSecond.get(i);
    return to > from ? sum / (double) (to - from) : Double.NaN;
  }

  private static String seconds(double s) {
    return Double.isNaN(s) ? "not within the timeout" : String.format(Locale.ROOT, "%.1f s", s);
  }

  /** A node's /metrics (gzip on the wire), as text. */
  private static String scrapeText(ServerUnderTest s) throws IOException {
    try (Scraper scraper = new Scraper(s.base, s.metricsToken, s.trust);
        GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(scraper.scrape(true, true).body()))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The hosts whose {@code restic_manager_host_online} row has {@code value} in an exposition. */
  private static Set<String> hostsWith(String exposition, String value) {
    String prefix = "restic_manager_host_online{host=\"";
    String suffix = "\"} " + value;
    Set<String> out = new HashSet<>();
    for (int at = exposition.indexOf(prefix); at >= 0; at = exposition.indexOf(prefix, at + 1)) {
      int end = exposition.indexOf('\n', at);
      String row = exposition.substring(at + prefix.length(), end);
      if (row.endsWith(suffix)) out.add(row.substring(0, row.length() - suffix.length()));
    }
    return out;
  }

  /** The hosts a node's /metrics shows, online or not: those whose entity runs there. */
  private static Set<String> hostsShown(ServerUnderTest s) throws IOException {
    String text = scrapeText(s);
    Set<String> out = hostsWith(text, "1");
    out.addAll(hostsWith(text, "0"));
    return out;
  }

  /** How many hosts a node's host list ({@code GET /api/v1/hosts}, the whole cluster's) shows online. */
  private static int listedOnline(ServerUnderTest s) throws Exception {
    Matcher m = ONLINE.matcher(s.api().admin("/api/v1/hosts"));
    int online = 0;
    while (m.find()) online++;
    return online;
  }

  /** The clusters of this run side by side. */
  private void compareClusters() {
    line("");
    line("# Clusters side by side");
    line("");
    line("Acked job.finished/s and server CPU per job (all nodes); /metrics p50 / p99 per node (identity, then gzip);"
        + " seconds from kill -9 of node 0 until the survivors removed it, every agent was welcomed again, and every host"
        + " was online in their /metrics (healed); hosts each survivor's host list showed online after; acked events"
        + " not stored.");
    line("");
    line("| nodes | acked job.finished/s | server CPU per job (µs) | server CPU (cores) | identity p50 / p99 (ms) |"
        + " gzip p50 / p99 (ms) | removed | agents back | healed | listed online | acked lost |");
    line("|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|");
    for (ClusterRun r : clusters) {
      List<String> identity = new ArrayList<>();
      List<String> gzip = new ArrayList<>();
      for (double[] s : r.scrapes) {
        identity.add(String.format(Locale.ROOT, "%.1f / %.1f", s[0], s[1]));
        gzip.add(String.format(Locale.ROOT, "%.1f / %.1f", s[2], s[3]));
      }
      line(String.format(Locale.ROOT, "| %d | %,.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.nodes,
          r.throughput.rate(), orNa("%.0f", r.throughput.cpuPerJobMicros()), orNa("%.2f", r.throughput.cores()),
          String.join(", ", identity), String.join(", ", gzip), orNa("%.1f", r.removed), orNa("%.1f", r.reconnected),
          orNa("%.1f", r.healed), r.listed, r.lost < 0 ? "n/a" : String.format(Locale.ROOT, "%d of %,d", r.lost, r.acked)));
    }
  }

  // ------------------------------------------------------------------------------------------ /metrics

  /**
   * Scrapes {@code server}'s /metrics, identity then gzip, under a heading that ends in {@code what}; returns
   * p50 and p99 of identity, then of gzip (NaN when not scraped). {@code hosts} is the fleet's size.
   */
  private double[] metrics(ServerUnderTest server, String what, int hosts) throws Exception {
    int scrapes = intOpt("scrapes", 100);
    int gzipScrapes = intOpt("gzip-scrapes", 100);
    line("");
    line("## /metrics latency " + what);
    line("");
    line("Sequential scrapes on one connection (" + (jdkScraper() ? "java.net.http client" : "raw keep-alive reader")
        + "); the time is from sending the request to the last byte of the body.");
    line("");
    line("| encoding | scrapes | body bytes | p50 (ms) | p99 (ms) | max (ms) | goal (p99 ≤ 50 ms at 10,000 hosts) |");
    line("|---|---:|---:|---:|---:|---:|---|");
    double[] identity = scrapeRow(server, hosts, scrapes, false);
    double[] gzip = gzipScrapes > 0 ? scrapeRow(server, hosts, gzipScrapes, true) : new double[] {Double.NaN, Double.NaN};
    if (round.tlsSession != null) {
      line("");
      line("Over " + round.tlsSession + "; each row's connection made its handshake before its warm-up scrapes.");
    }
    return new double[] {identity[0], identity[1], gzip[0], gzip[1]};
  }

  /** One row of {@link #metrics}: {@code n} scrapes after a tenth more of warm-up; returns p50 and p99 in ms. */
  private double[] scrapeRow(ServerUnderTest server, int hosts, int n, boolean gzip) throws Exception {
    boolean jdk = jdkScraper();
    HttpRequest.Builder b = HttpRequest.newBuilder(server.base.resolve("/metrics")).timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + server.metricsToken);
    if (gzip) b.header("Accept-Encoding", "gzip");
    HttpRequest request = b.build();
    Latencies latencies = new Latencies();
    List<long[]> slowest = new ArrayList<>();
    long bytes = 0;
    try (Scraper scraper = new Scraper(server.base, server.metricsToken, server.trust)) {
      int warmup = Math.max(5, n / 10);
      for (int i = -warmup; i < n; i++) {
        int status;
        long t0 = System.nanoTime();
        if (jdk) {
          HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
          status = r.statusCode();
          bytes = r.body().length;
        } else {
          Scraper.Response r = scraper.scrape(gzip, i == -warmup);
          status = r.status();
          bytes = r.bodyBytes();
          if (r.body() != null) checkExposition(r, gzip);
        }
        long took = System.nanoTime() - t0;
        if (status != 200) throw new IllegalStateException("/metrics -> " + status);
        if (i >= 0) {
          latencies.add(took);
          slowest.add(new long[] {took, System.currentTimeMillis() - took / 1_000_000});
          slowest.sort((a, c) -> Long.compare(c[0], a[0]));
          if (slowest.size() > 3) slowest.remove(3);
        }
      }
      if (scraper.tlsSession() != null) round.tlsSession = scraper.tlsSession();
    }
    double p99 = latencies.percentileMillis(99);
    line(String.format(Locale.ROOT, "| %s | %d | %,d | %.1f | %.1f | %.1f | %s |", gzip ? "gzip" : "identity", n, bytes,
        latencies.percentileMillis(50), p99, latencies.maxMillis(),
        hosts < 10_000 ? "" : p99 <= 50 ? "met" : "missed"));
    progress(String.format(Locale.ROOT, "/metrics %s at %d hosts: p50 %.1f ms, p99 %.1f ms", gzip ? "gzip" : "plain",
        hosts, latencies.percentileMillis(50), p99));
    for (long[] slow : slowest) {
      progress(String.format(Locale.ROOT, "  slow: %.1f ms from %s", slow[0] / 1e6, Instant.ofEpochMilli(slow[1])));
    }
    return new double[] {latencies.percentileMillis(50), p99};
  }

  /** {@code --scrape-client=jdk}: scrape with the JDK's HttpClient, as the load tool did until the third session. */
  private boolean jdkScraper() {
    return opt("scrape-client", "raw").equals("jdk");
  }

  /** The raw scraper's first body of a row, read whole: an exposition (gunzipped when asked for) that ends. */
  private static void checkExposition(Scraper.Response r, boolean gzip) throws IOException {
    if (r.gzipped() != gzip) throw new IllegalStateException("gzip asked: " + gzip + ", gzipped: " + r.gzipped());
    byte[] body = r.body();
    if (gzip) {
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
        body = in.readAllBytes();
      }
    }
    String text = new String(body, StandardCharsets.UTF_8);
    if (!text.startsWith("# HELP restic_manager_") || !text.contains("\nrestic_manager_build_info{")
        || !text.endsWith("\n")) {
      throw new IllegalStateException("the raw scraper read no whole exposition (" + body.length + " bytes)");
    }
  }

  /** With --hold-seconds=N, keeps the server and its agents up for N seconds (bounded) for manual probes. */
  private void hold(ServerUnderTest server) throws InterruptedException {
    int seconds = Math.min(intOpt("hold-seconds", 0), 1800);
    if (seconds <= 0) return;
    progress("holding for " + seconds + " s: " + server.base + "/metrics, metrics token " + server.metricsToken);
    Thread.sleep(seconds * 1000L);
  }

  // ------------------------------------------------------------------------------------------ output

  /** What one round measured, for {@link #compareRounds}; NaN where its scenarios did not measure it. */
  private static final class Round {
    private static final String[] COLUMNS = {"connect (s)", "server CPU connecting (s)", "heap, none connected (MiB)",
        "heap per connection (KiB)", "RSS per connection (KiB)", "acked job.finished/s", "server CPU per job (µs)",
        "load tool CPU (cores)", "identity p50 (ms)", "identity p99 (ms)", "gzip p50 (ms)", "gzip p99 (ms)"};
    private static final String[] FORMATS = {"%.1f", "%.1f", "%.1f", "%.1f", "%.1f", "%,.0f", "%.0f", "%.2f", "%.1f",
        "%.1f", "%.1f", "%.1f"};

    final int number;
    final String transport;
    /** Connecting the large fleet's agents (all steps of the idle levels), and the heap at the largest level. */
    double connectSeconds = Double.NaN;
    double connectCpuSeconds = Double.NaN;
    /** Heap after full GCs with the large fleet enrolled and no agent connected. */
    double heapEnrolledMiB = Double.NaN;
    double heapPerConnectionKiB = Double.NaN;
    double rssPerConnectionKiB = Double.NaN;
    double ackedPerSecond = Double.NaN;
    double cpuPerJobMicros = Double.NaN;
    double loadToolCores = Double.NaN;
    /** /metrics p50 and p99 of identity, then of gzip, in ms, by fleet size. */
    final TreeMap<Integer, double[]> scrapes = new TreeMap<>();
    /** The protocol and cipher suite the scraper's connection negotiated; null for plain. */
    String tlsSession;

    Round(int number, String transport) {
      this.number = number;
      this.transport = transport;
    }

    boolean tls() {
      return transport.equals("tls");
    }

    String label() {
      return tls() ? "TLS (HTTPS, WSS)" : "plain (HTTP, WS)";
    }

    /** In the order of {@link #COLUMNS}; the scrapes at {@code hosts}. */
    double[] values(int hosts) {
      double[] s = scrapes.getOrDefault(hosts, new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN});
      return new double[] {connectSeconds, connectCpuSeconds, heapEnrolledMiB, heapPerConnectionKiB, rssPerConnectionKiB,
          ackedPerSecond, cpuPerJobMicros, loadToolCores, s[0], s[1], s[2], s[3]};
    }
  }

  /** The rounds side by side, each transport's mean over its rounds, and the ratio of the means TLS / plain. */
  private void compareRounds() {
    int hosts = rounds.stream().filter(r -> !r.scrapes.isEmpty()).mapToInt(r -> r.scrapes.lastKey()).max().orElse(0);
    line("");
    line("# TLS against plain HTTP");
    line("");
    line("Connecting: the large fleet's agents, 100 handshakes in flight."
        + (hosts > 0 ? String.format(" /metrics: at %,d hosts.", hosts) : "") + " n/a: not measured by the scenarios run.");
    line("");
    line("| round | transport | " + String.join(" | ", Round.COLUMNS) + " |");
    line("|---:|---|" + "---:|".repeat(Round.COLUMNS.length));
    Map<String, double[]> sums = new TreeMap<>();
    Map<String, Integer> counts = new TreeMap<>();
    for (Round r : rounds) {
      double[] v = r.values(hosts);
      line("| " + r.number + " | " + r.transport + " | " + cells(v, Round.FORMATS) + " |");
      double[] sum = sums.computeIfAbsent(r.transport, t -> new double[Round.COLUMNS.length]);
      for (int i = 0; i < v.length; i++) sum[i] += v[i];
      counts.merge(r.transport, 1, Integer::sum);
    }
    for (Map.Entry<String, double[]> e : sums.entrySet()) {
      for (int i = 0; i < e.getValue().length; i++) e.getValue()[i] /= counts.get(e.getKey());
      line("| mean | " + e.getKey() + " | " + cells(e.getValue(), Round.FORMATS) + " |");
    }
    if (sums.size() == 2) {
      double[] ratio = new double[Round.COLUMNS.length];
      for (int i = 0; i < ratio.length; i++) ratio[i] = sums.get("tls")[i] / sums.get("plain")[i];
      String[] formats = new String[ratio.length];
      Arrays.fill(formats, "%.2f");
      line("| **TLS / plain** | | " + cells(ratio, formats) + " |");
    }
    rounds.stream().map(r -> r.tlsSession).filter(Objects::nonNull).distinct()
        .forEach(t -> line("\nTLS rounds' scraper connections: " + t + "."));
  }

  private static String cells(double[] values, String[] formats) {
    List<String> cells = new ArrayList<>();
    for (int i = 0; i < values.length; i++) cells.add(orNa(formats[i], values[i]));
    return String.join(" | ", cells);
  }

  private static String orNa(String format, double value) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, format, value);
  }

  private void line(String s) {
    report.append(s).append('\n');
  }

  private static void progress(String s) {
    System.err.println("[load] " + s);
  }
}
