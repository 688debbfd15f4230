package io.resticmanager.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.resticmanager.config.ConfigError;
import io.resticmanager.config.IpLiteral;
import io.resticmanager.jobs.JobKind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's validated, immutable settings. Built by {@link #load} from the layers of CONTRACT §1
 * ({@code reference.conf} → {@code application.conf} in the working directory or {@code --config FILE}
 * → {@code RM_*} variables, later wins); every bad value becomes a {@link ConfigError} naming the key,
 * its variable and the value. Read by {@link Agent} and the parts it wires. {@link #toString()} never
 * prints the enrollment token.
 */
public record AgentSettings(
    List<URI> serverUrls,
    ServerTrust serverTrust,
    Optional<String> enrollmentToken,
    String hostname,
    List<String> backupPaths,
    Path dataDir,
    String restic,
    Map<JobKind, Schedule> schedules,
    ForgetPolicy forget,
    Map<JobKind, Duration> timeouts,
    Duration minBackoff,
    Duration maxBackoff,
    Duration connectTimeout,
    Duration stopTimeout,
    Duration statsInterval) {

  static final String P = "restic-manager.agent.";
  static final String DATA_DIR = "restic-manager.data-dir";

  /** The scheduled kinds; {@code restore} runs only on the server's command. */
  public static final List<JobKind> SCHEDULED = List.of(JobKind.BACKUP, JobKind.CHECK, JobKind.FORGET, JobKind.PRUNE);

  private static final Map<String, String> ENV = Map.of(
      "RM_SERVER_URL", P + "server-url",
      "RM_SERVER_CA_FILE", P + "server-ca-file",
      "RM_ALLOW_INSECURE_HTTP", P + "allow-insecure-http",
      "RM_ENROLLMENT_TOKEN", P + "enrollment-token",
      "RM_HOSTNAME", P + "hostname",
      "RM_DATA_DIR", DATA_DIR);

  public AgentSettings {
    serverUrls = List.copyOf(serverUrls);
    if (serverUrls.isEmpty()) throw new IllegalArgumentException("no server URL");
    Objects.requireNonNull(serverTrust, "serverTrust");
    Objects.requireNonNull(enrollmentToken, "enrollmentToken");
    Objects.requireNonNull(hostname, "hostname");
    backupPaths = List.copyOf(backupPaths);
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(restic, "restic");
    schedules = Map.copyOf(schedules);
    Objects.requireNonNull(forget, "forget");
    timeouts = Map.copyOf(timeouts);
    Objects.requireNonNull(statsInterval, "statsInterval");
  }

  /** Per server URL, in the same order: {@code ws://} or {@code wss://}, its path prefix, {@code /api/v1/agents/ws}. */
  public List<URI> webSocketUrls() {
    return serverUrls.stream().map(u -> {
      String scheme = u.getScheme().equalsIgnoreCase("https") ? "wss" : "ws";
      return URI.create(scheme + u.toString().substring(u.getScheme().length()) + "/api/v1/agents/ws");
    }).toList();
  }

  /** Per server URL, in the same order: the {@code POST} target of enrollment. */
  public List<URI> enrollUrls() {
    return serverUrls.stream().map(u -> URI.create(u + "/api/v1/agents/enroll")).toList();
  }

  public Path agentTokenFile() {
    return dataDir.resolve("agent-token");
  }

  public Path outboxDir() {
    return dataDir.resolve("outbox");
  }

  public Schedule schedule(JobKind kind) {
    return schedules.getOrDefault(kind, Schedule.DISABLED);
  }

  public Duration timeout(JobKind kind) {
    return timeouts.getOrDefault(kind, Duration.ofHours(6));
  }

  @Override
  public String toString() {
    return "AgentSettings[serverUrls=" + serverUrls + ", serverTrust=" + serverTrust
        + ", enrollmentToken=" + (enrollmentToken.isPresent() ? "***" : "<none>") + ", hostname=" + hostname
        + ", backupPaths=" + backupPaths + ", dataDir=" + dataDir + ", restic=" + restic
        + ", schedules=" + schedules + ", forget=" + forget + ", timeouts=" + timeouts + ", minBackoff=" + minBackoff
        + ", maxBackoff=" + maxBackoff + ", connectTimeout=" + connectTimeout + ", stopTimeout=" + stopTimeout
        + ", statsInterval=" + statsInterval + "]";
  }

  // ---------------------------------------------------------------- loading

  /**
   * Reads the layers and validates. {@code configFile} replaces {@code ./application.conf}; {@code env}
   * is the process environment (a map, so tests and the demo can pass their own).
   */
  public static AgentSettings load(Optional<Path> configFile, Map<String, String> env) {
    Config file;
    if (configFile.isPresent()) {
      Path p = configFile.get();
      if (!Files.isReadable(p)) throw new ConfigError("--config", p.toString(), "file not found or not readable");
      file = parse(p);
    } else {
      Path app = Path.of("application.conf");
      file = Files.isReadable(app) ? parse(app) : ConfigFactory.empty();
    }
    Config c = envLayer(env).withFallback(file).withFallback(ConfigFactory.defaultReference());
    try {
      c = c.resolve();
    } catch (ConfigException e) {
      throw new ConfigError("configuration", "", e.getMessage());
    }
    return fromConfig(c, env);
  }

  private static Config parse(Path p) {
    try {
      return ConfigFactory.parseFile(p.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ConfigError("--config", p.toString(), "does not parse: " + e.getMessage());
    }
  }

  private static Config envLayer(Map<String, String> env) {
    Config c = ConfigFactory.empty();
    for (Map.Entry<String, String> e : ENV.entrySet()) {
      String v = env.get(e.getKey());
      if (v != null) c = c.withValue(e.getValue(), ConfigValueFactory.fromAnyRef(v.trim()));
    }
    String paths = env.get("RM_BACKUP_PATHS");
    if (paths != null) {
      List<String> list = Arrays.stream(paths.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      c = c.withValue(P + "backup-paths", ConfigValueFactory.fromIterable(list));
    }
    return c;
  }

  /** Validates an already layered and resolved config; {@code env} only supplies the host-name fallback. */
  static AgentSettings fromConfig(Config c, Map<String, String> env) {
    List<URI> servers = serverUrls(c, allowInsecureHttp(c));
    ServerTrust trust = serverTrust(string(c, P + "server-ca-file", "RM_SERVER_CA_FILE").trim());

    String token = string(c, P + "enrollment-token", "RM_ENROLLMENT_TOKEN").trim();

    String hostname = string(c, P + "hostname", "RM_HOSTNAME").trim();
    if (hostname.isEmpty()) hostname = machineHostname(env);
    if (!validHostname(hostname)) {
      throw new ConfigError(key(P + "hostname", "RM_HOSTNAME"), hostname,
          "not a host name (1-253 letters, digits, '-', '.', '_')");
    }

    List<String> paths;
    try {
      paths = c.getStringList(P + "backup-paths");
    } catch (ConfigException e) {
      throw new ConfigError(key(P + "backup-paths", "RM_BACKUP_PATHS"), render(c, P + "backup-paths"), "not a list of paths");
    }
    for (String s : paths) {
      if (s.isBlank() || s.indexOf('\0') >= 0) {
        throw new ConfigError(key(P + "backup-paths", "RM_BACKUP_PATHS"), s, "not a path");
      }
    }

    String dataDirText = c.hasPath(DATA_DIR) ? string(c, DATA_DIR, "RM_DATA_DIR") : "./data";
    if (dataDirText.isBlank() || dataDirText.indexOf('\0') >= 0) {
      throw new ConfigError(key(DATA_DIR, "RM_DATA_DIR"), dataDirText, "not a directory path");
    }
    Path dataDir = Path.of(dataDirText);

    String restic = string(c, P + "restic", null).trim();
    if (restic.isEmpty()) throw new ConfigError(P + "restic", restic, "must name the restic binary");

    Map<JobKind, Schedule> schedules = new EnumMap<>(JobKind.class);
    for (JobKind k : SCHEDULED) {
      String base = P + "schedules." + k.wire() + ".";
      Duration interval = duration(c, base + "interval", true);
      Duration offset = duration(c, base + "offset", true);
      if (!interval.isZero() && offset.compareTo(interval) >= 0) {
        throw new ConfigError(base + "offset", render(c, base + "offset"), "must be below the interval " + render(c, base + "interval"));
      }
      schedules.put(k, new Schedule(interval, offset));
    }

    ForgetPolicy forget = new ForgetPolicy(
        keep(c, "keep-last"), keep(c, "keep-hourly"), keep(c, "keep-daily"),
        keep(c, "keep-weekly"), keep(c, "keep-monthly"), keep(c, "keep-yearly"));
    if (schedules.get(JobKind.FORGET).enabled() && forget.isEmpty()) {
      throw new ConfigError(P + "schedules.forget.interval", render(c, P + "schedules.forget.interval"),
          "a forget schedule needs a policy: set at least one of " + P + "forget.keep-*");
    }

    Map<JobKind, Duration> timeouts = new EnumMap<>(JobKind.class);
    for (JobKind k : JobKind.values()) {
      String key = P + "timeouts." + k.wire();
      timeouts.put(k, c.hasPath(key) ? duration(c, key, false) : Duration.ofHours(6));
    }

    Duration min = duration(c, P + "reconnect.min-backoff", false);
    Duration max = duration(c, P + "reconnect.max-backoff", false);
    if (max.compareTo(min) < 0) {
      throw new ConfigError(P + "reconnect.max-backoff", render(c, P + "reconnect.max-backoff"), "must be at least min-backoff");
    }
    return new AgentSettings(servers, trust, token.isEmpty() ? Optional.empty() : Optional.of(token), hostname, paths,
        dataDir, restic, schedules, forget, timeouts, min, max,
        duration(c, P + "connect-timeout", false), duration(c, P + "stop-timeout", false),
        duration(c, P + "stats-interval", false));
  }

  private static boolean allowInsecureHttp(Config c) {
    String key = P + "allow-insecure-http";
    try {
      return c.getBoolean(key);
    } catch (ConfigException e) {
      throw new ConfigError(key(key, "RM_ALLOW_INSECURE_HTTP"), render(c, key), "must be true or false");
    }
  }

  private static ServerTrust serverTrust(String file) {
    if (file.isEmpty()) return ServerTrust.JVM;
    String k = key(P + "server-ca-file", "RM_SERVER_CA_FILE");
    try {
      return ServerTrust.withCaFile(Path.of(file));
    } catch (InvalidPathException | IOException e) {
      throw new ConfigError(k, file, "cannot be read: " + e);
    } catch (CertificateException e) {
      throw new ConfigError(k, file, "is not a PEM file of CA certificates: " + e.getMessage());
    }
  }

  /**
   * {@code server-url}: comma-separated text or a HOCON list (whose entries may be comma-separated too);
   * blank entries are skipped, repeats (after trailing slashes are cut) kept once, in the order given.
   */
  private static List<URI> serverUrls(Config c, boolean allowInsecureHttp) {
    String k = key(P + "server-url", "RM_SERVER_URL");
    String path = P + "server-url";
    ConfigValueType type = c.hasPath(path) ? c.getValue(path).valueType() : ConfigValueType.NULL;
    List<String> texts = switch (type) {
      case STRING -> List.of(c.getString(path));
      case LIST -> {
        try {
          yield c.getStringList(path);
        } catch (ConfigException e) {
          throw new ConfigError(k, render(c, path), "not a list of URLs");
        }
      }
      default -> throw new ConfigError(k, render(c, path), "not a URL or a list of URLs");
    };
    Set<URI> urls = new LinkedHashSet<>();
    for (String text : texts) {
      for (String one : text.split(",")) {
        if (!one.isBlank()) urls.add(serverUrl(k, one.trim(), allowInsecureHttp));
      }
    }
    if (urls.isEmpty()) throw new ConfigError(k, render(c, path), "names no server");
    return List.copyOf(urls);
  }

  private static URI serverUrl(String k, String text, boolean allowInsecureHttp) {
    String s = text;
    while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
    URI u;
    try {
      u = new URI(s);
    } catch (URISyntaxException e) {
      throw new ConfigError(k, text, "not a URL");
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) throw new ConfigError(k, text, "must start with http:// or https://");
    if (u.getHost() == null || u.getHost().isEmpty()) throw new ConfigError(k, text, "has no host");
    if (u.getRawQuery() != null || u.getRawFragment() != null) throw new ConfigError(k, text, "must not have a query or fragment");
    if (u.getRawUserInfo() != null) {
      throw new ConfigError(k, text.replace(u.getRawUserInfo(), "***"), "must not carry credentials");
    }
    if (!allowInsecureHttp && unencryptedOffHost(u)) {
      throw new ConfigError(k, text, "plain http:// to a host that is not loopback would send the enrollment and "
          + "agent tokens unencrypted: use https://, or allow it with RM_ALLOW_INSECURE_HTTP=true (" + P
          + "allow-insecure-http)");
    }
    return u;
  }

  /** Plain {@code http://} to a host that is not loopback: tokens would cross a network unencrypted. */
  static boolean unencryptedOffHost(URI url) {
    return url.getScheme().equalsIgnoreCase("http") && !isLoopback(url.getHost());
  }

  /** {@code localhost}, or an IP literal in 127.0.0.0/8 or {@code ::1}; no name is resolved. */
  static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) return true;
    String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return IpLiteral.parse(literal).map(InetAddress::isLoopbackAddress).orElse(false);
  }

  static boolean validHostname(String s) {
    if (s.isEmpty() || s.length() > 253) return false;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
          || ch == '-' || ch == '.' || ch == '_';
      if (!ok) return false;
    }
    return true;
  }

  /** The kernel's host name (no DNS lookup), else the JDK's, else {@code HOSTNAME}. */
  private static String machineHostname(Map<String, String> env) {
    try {
      Path p = Path.of("/proc/sys/kernel/hostname");
      if (Files.isReadable(p)) {
        String s = Files.readString(p, StandardCharsets.UTF_8).trim();
        if (!s.isEmpty()) return s;
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    try {
      String s = InetAddress.getLocalHost().getHostName();
      if (s != null && !s.isBlank()) return s.trim();
    } catch (IOException e) {
      // fall through
    }
    return env.getOrDefault("HOSTNAME", "").trim();
  }

  private static int keep(Config c, String name) {
    String key = P + "forget." + name;
    int v;
    try {
      v = c.getInt(key);
    } catch (ConfigException e) {
      throw new ConfigError(key, render(c, key), "not a whole number");
    }
    if (v < 0) throw new ConfigError(key, Integer.toString(v), "must be >= 0");
    return v;
  }

  private static Duration duration(Config c, String key, boolean zeroAllowed) {
    Duration d;
    try {
      if (c.getValue(key).valueType() == ConfigValueType.NUMBER) {
        throw new ConfigError(key, render(c, key), "needs a unit (e.g. 30s, 15m, 6h): a bare number would be milliseconds");
      }
      d = c.getDuration(key);
    } catch (ConfigException e) {
      throw new ConfigError(key, render(c, key), "not a duration (e.g. 30s, 15m, 6h)");
    }
    if (d.isNegative() || (!zeroAllowed && d.isZero())) {
      throw new ConfigError(key, render(c, key), zeroAllowed ? "must be >= 0" : "must be > 0");
    }
    return d;
  }

  private static String string(Config c, String key, String env) {
    try {
      return c.getString(key);
    } catch (ConfigException e) {
      throw new ConfigError(env == null ? key : key(key, env), render(c, key), "not a string");
    }
  }

  private static String render(Config c, String key) {
    if (!c.hasPathOrNull(key)) return "<missing>";
    if (c.getIsNull(key)) return "null";
    Object v = c.getValue(key).unwrapped();
    if (v instanceof List<?> l) return String.join(",", l.stream().map(String::valueOf).toList());
    return String.valueOf(v);
  }

  private static String key(String key, String env) {
    return key + " (" + env + ")";
  }

  /** A copy with other data dir; for tests and the demo. */
  public AgentSettings withDataDir(Path dir) {
    return new AgentSettings(serverUrls, serverTrust, enrollmentToken, hostname, backupPaths, dir, restic, schedules,
        forget, timeouts, minBackoff, maxBackoff, connectTimeout, stopTimeout, statsInterval);
  }
}
