package io.resticmanager.demo;

import io.resticmanager.agent.Agent;
import io.resticmanager.agent.AgentSettings;
import io.resticmanager.config.ConfigError;
import io.resticmanager.config.Settings;
import io.resticmanager.config.SettingsLoader;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.server.Server;
import io.resticmanager.store.Tokens;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code demo} subcommand: the server on embedded defaults plus one local agent backing up sample
 * data into a throw-away restic repository, all under {@code <data dir>/demo}. The agent is enrolled
 * through the real API, backs up at once and then every minute, and checks every ten minutes. When no
 * metrics access is configured, a metrics token is generated into {@code <data dir>/demo/metrics-token}
 * so {@code /metrics} can be tried. Prints where everything is; never prints a secret itself.
 *
 * <p>It refuses TLS settings ({@code RM_TLS_CERT_FILE}, {@code RM_TLS_KEY_FILE}) with exit code 2 rather
 * than serve HTTPS: its agent reaches the server at {@code 127.0.0.1}, which an operator's certificate
 * does not name, so the agent would refuse it, and everything the demo does stays on loopback anyway.
 * TLS is tried with {@code serve} and {@code agent}.
 */
public final class Demo {
  private static final Logger log = LoggerFactory.getLogger(Demo.class);
  private static final Pattern JSON_STRING = Pattern.compile("\"(\\w+)\"\\s*:\\s*\"([^\"]*)\"");
  private static final Set<PosixFilePermission> OWNER_ONLY =
      Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private final Map<String, String> env;
  private final PrintStream out;

  public Demo(Map<String, String> env, PrintStream out) {
    this.env = env;
    this.out = out;
  }

  /** Everything the demo started; {@link #close()} stops the agent, then the server. */
  public record Running(Server server, Agent agent, Path demoDir, String metricsHint) implements AutoCloseable {
    @Override
    public void close() {
      agent.close();
      server.stop();
    }
  }

  /** Starts server and agent; throws {@link ConfigError} for bad settings, TLS settings included. */
  public Running start(Optional<Path> configFile, CountDownLatch stop) throws Exception {
    Map<String, String> serverEnv = new HashMap<>(env);
    SettingsLoader.Loaded loaded = SettingsLoader.load(configFile, serverEnv);
    Optional<Settings.Tls> tls = loaded.settings().http().tls();
    if (tls.isPresent()) {
      throw new ConfigError("restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE)", tls.get().certFile().toString(),
          "the demo serves plain HTTP on loopback to its own agent: unset RM_TLS_CERT_FILE and RM_TLS_KEY_FILE"
              + " (http.tls.*), or try TLS with serve and agent (docs/operations.md)");
    }
    Path dataDir = loaded.settings().dataDir();
    Path demo = Files.createDirectories(dataDir.resolve("demo"));
    String metricsHint;
    if (loaded.settings().metrics().enabled()) {
      metricsHint = "/metrics uses the metrics access you configured";
    } else {
      Path tokenFile = demo.resolve("metrics-token");
      secretFile(tokenFile);
      serverEnv.put("RM_METRICS_TOKEN_FILE", tokenFile.toString());
      loaded = SettingsLoader.load(configFile, serverEnv);
      metricsHint = "curl -H \"Authorization: Bearer $(cat " + tokenFile + ")\" %s/metrics";
    }

    Path repo = demo.resolve("repository");
    Path password = demo.resolve("repository-password");
    Path sample = demo.resolve("sample-data");
    secretFile(password);
    writeSampleData(sample);
    Map<String, String> resticEnv = new HashMap<>(env);
    resticEnv.put("RESTIC_REPOSITORY", repo.toString());
    resticEnv.put("RESTIC_PASSWORD_FILE", password.toString());
    initRepository(resticEnv, repo);

    Server server = Server.start(loaded);
    try {
      String base = "http://127.0.0.1:" + server.port();
      Path agentDir = Files.createDirectories(demo.resolve("agent"));
      Path agentConf = agentDir.resolve("agent.conf");
      Files.writeString(agentConf, """
          # Written by the demo: back up every minute, check every ten.
          restic-manager.agent.schedules {
            backup { interval = 1m, offset = 0s }
            check { interval = 10m, offset = 5m }
          }
          """);
      Map<String, String> agentEnv = new HashMap<>(resticEnv);
      agentEnv.put("RM_SERVER_URL", base);
      agentEnv.put("RM_DATA_DIR", agentDir.toString());
      agentEnv.put("RM_BACKUP_PATHS", sample.toString());
      agentEnv.putIfAbsent("RM_HOSTNAME", "demo-host");
      if (!Files.exists(agentDir.resolve("agent-token"))) {
        agentEnv.put("RM_ENROLLMENT_TOKEN", enrollmentToken(base, server.adminToken()));
      }
      Agent agent = Agent.start(AgentSettings.load(Optional.of(agentConf), agentEnv), agentEnv, stop);
      agent.runNow(JobKind.BACKUP);
      return new Running(server, agent, demo, metricsHint.formatted(base));
    } catch (Exception | Error e) {
      server.stop();
      throw e;
    }
  }

  /** Prints the URL, the status page, where the admin token is and a ready curl for /metrics. */
  public void printBanner(Running r, Path dataDir, boolean adminTokenFromConfig) {
    String base = "http://127.0.0.1:" + r.server().port();
    String adminToken = adminTokenFromConfig ? "$RM_ADMIN_TOKEN"
        : "$(cat " + dataDir.resolve("admin-token") + ")";
    out.println();
    out.println("restic-manager demo is running at " + base);
    out.println("  status page:  open " + base + "/ in a browser and log in with the admin token");
    out.println("  admin token:  " + (adminTokenFromConfig ? "as configured (RM_ADMIN_TOKEN)"
        : dataDir.resolve("admin-token").toString()));
    out.println("  hosts:        curl -H \"Authorization: Bearer " + adminToken + "\" " + base + "/api/v1/hosts");
    out.println("  jobs:         curl -H \"Authorization: Bearer " + adminToken + "\" " + base + "/api/v1/jobs");
    out.println("  metrics:      " + r.metricsHint());
    out.println("  repository:   " + r.demoDir().resolve("repository") + " (password in "
        + r.demoDir().resolve("repository-password") + ")");
    out.println("A backup runs now and every minute, a check every ten minutes. Stop with Ctrl-C.");
    out.println();
  }

  private static void secretFile(Path file) throws IOException {
    if (Files.exists(file)) return;
    Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    Files.writeString(file, Tokens.newToken() + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static void writeSampleData(Path sample) throws IOException {
    Files.createDirectories(sample.resolve("etc"));
    Files.createDirectories(sample.resolve("home/alice"));
    Files.writeString(sample.resolve("etc/app.conf"), "listen = 0.0.0.0:8443\nworkers = 4\n");
    Files.writeString(sample.resolve("home/alice/notes.txt"), "Back up early, back up often.\n");
    // One file that changes every run, so every backup adds a little data.
    Files.writeString(sample.resolve("home/alice/journal.log"), "demo run at " + java.time.Instant.now() + "\n",
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static void initRepository(Map<String, String> resticEnv, Path repo) throws IOException, InterruptedException {
    if (Files.exists(repo.resolve("config"))) return;
    ProcessBuilder pb = new ProcessBuilder("restic", "init", "--json").redirectErrorStream(true);
    pb.environment().putAll(resticEnv);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException("the demo needs restic on PATH (Debian: apt-get install restic): " + e.getMessage(), e);
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("restic init failed: " + output.strip());
    }
    log.info("Demo repository initialised at [{}]", repo);
  }

  private static String enrollmentToken(String base, String adminToken) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(base + "/api/v1/enrollment-tokens"))
            .timeout(Duration.ofSeconds(20))
            .header("Authorization", "Bearer " + adminToken)
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new IOException("could not create an enrollment token: HTTP " + r.statusCode());
    Matcher m = JSON_STRING.matcher(r.body());
    while (m.find()) {
      if (m.group(1).equals("token")) return m.group(2);
    }
    throw new IOException("no token in the enrollment reply");
  }
}
