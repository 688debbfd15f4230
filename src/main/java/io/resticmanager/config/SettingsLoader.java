package io.resticmanager.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.pki.pem.DERPrivateKeyLoader;
import org.apache.pekko.pki.pem.PEMDecoder;

/**
 * Builds the server's {@link Settings} and the merged Pekko {@link Config} from three layers, later
 * winning: every {@code reference.conf} on the class path, then {@code application.conf} from the
 * working directory or the {@code --config} file, then the {@code RM_*} environment variables.
 *
 * <p>{@code Main} calls {@link #load} once at start, hands {@link Loaded#config()} to the ActorSystem
 * and {@link Loaded#settings()} to the rest of the server. Every invalid value becomes one
 * {@link ConfigError} (exit code 2); no other exception escapes for bad input. It never reads system
 * properties or the process environment itself: the caller passes the environment in. Its only side
 * effect is creating the data directory (and a write probe it deletes again).
 */
public final class SettingsLoader {

  /** The validated settings and the fully merged configuration to start the ActorSystem with. */
  public record Loaded(Settings settings, Config config) {}

  private static final String ROOT = "restic-manager";
  private static final String PEKKO_OVERRIDES = ROOT + ".pekko-overrides";
  private static final Set<String> SECRETS = Set.of("admin-token", "db.password", "metrics.token");
  private static final Set<String> SYNCHRONOUS = Set.of("OFF", "NORMAL", "FULL", "EXTRA");
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,18}");
  private static final Pattern SUBSTITUTION = Pattern.compile("\\$\\{[^}]*}");
  private static final Pattern DIGITS_ONLY = Pattern.compile("[+-]?[\\d.]+");
  private static final Pattern SEED = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[^\\s:\\[\\]/@]+):\\d{1,5}");
  private static final int MIN_ADMIN_TOKEN = 16;
  private static final long MIN_FRAME = 1024;
  private static final long MAX_FRAME = 16L * 1024 * 1024;

  /** RM_* variable → key below {@code restic-manager}. */
  private static final Map<String, String> ENV_KEYS = envKeys();

  private SettingsLoader() {}

  private static Map<String, String> envKeys() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("RM_HTTP_HOST", "http.host");
    m.put("RM_HTTP_PORT", "http.port");
    m.put("RM_DATA_DIR", "data-dir");
    m.put("RM_DB_URL", "db.url");
    m.put("RM_DB_USER", "db.user");
    m.put("RM_DB_PASSWORD", "db.password");
    m.put("RM_ADMIN_TOKEN", "admin-token");
    m.put("RM_TRUSTED_PROXIES", "trusted-proxies");
    m.put("RM_METRICS_TOKEN", "metrics.token");
    m.put("RM_METRICS_TOKEN_FILE", "metrics.token-file");
    m.put("RM_METRICS_TRUSTED_CIDR", "metrics.trusted-cidr");
    m.put("RM_TLS_CERT_FILE", "http.tls.cert-file");
    m.put("RM_TLS_KEY_FILE", "http.tls.key-file");
    m.put("RM_JOBS_RETENTION", "jobs.retention");
    m.put("RM_CLUSTER_HOST", "cluster.host");
    m.put("RM_CLUSTER_PORT", "cluster.port");
    m.put("RM_CLUSTER_SEED_NODES", "cluster.seed-nodes");
    m.put("RM_CLUSTER_TLS_CERT_FILE", "cluster.tls.cert-file");
    m.put("RM_CLUSTER_TLS_KEY_FILE", "cluster.tls.key-file");
    m.put("RM_CLUSTER_TLS_CA_FILE", "cluster.tls.ca-file");
    return Map.copyOf(m);
  }

  /**
   * Loads and validates. {@code configFile} is the {@code --config} argument (relative paths are
   * taken from the working directory); {@code env} is the process environment, normally
   * {@code System.getenv()}.
   *
   * @throws ConfigError naming the key (and its variable) and the bad value
   */
  public static Loaded load(Optional<Path> configFile, Map<String, String> env) {
    return load(configFile, env, Path.of("").toAbsolutePath());
  }

  static Loaded load(Optional<Path> configFile, Map<String, String> env, Path workingDir) {
    Config reference = ConfigFactory.parseResources(SettingsLoader.class.getClassLoader(), "reference.conf");
    return load(reference, configFile, env, workingDir);
  }

  /** {@code reference} is the unresolved union of every reference.conf, as the class path or a fat jar has it. */
  static Loaded load(Config reference, Optional<Path> configFile, Map<String, String> env, Path workingDir) {
    Objects.requireNonNull(configFile, "configFile");
    Objects.requireNonNull(env, "env");
    Path cwd = workingDir.toAbsolutePath();
    Config operator = operatorFile(configFile, cwd);
    Config environment = environmentLayer(env);
    Config merged = resolve(environment
        .withFallback(operator)
        .withFallback(pekkoOverrides(reference))
        .withFallback(reference), env);
    Settings settings = new Reader(merged, env, cwd).read();
    Config config = merged.withValue("pekko.http.server.max-connections",
        ConfigValueFactory.fromAnyRef(settings.http().maxConnections(), ROOT + ".http.max-connections"));
    return new Loaded(settings, config);
  }

  private static Config operatorFile(Optional<Path> configFile, Path cwd) {
    if (configFile.isPresent()) {
      Path file = cwd.resolve(configFile.get()).normalize();
      if (!Files.exists(file)) throw new ConfigError("--config", file.toString(), "no such file");
      if (!Files.isRegularFile(file)) throw new ConfigError("--config", file.toString(), "not a regular file");
      return parse(file, "--config");
    }
    Path file = cwd.resolve("application.conf");
    if (!Files.exists(file)) return ConfigFactory.empty();
    return parse(file, "application.conf");
  }

  private static Config parse(Path file, String key) {
    try {
      return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ConfigError(key, file.toString(), "cannot be read or parsed: " + oneLine(e.getMessage()));
    }
  }

  /**
   * Pekko settings the server needs sit in reference.conf under {@code restic-manager.pekko-overrides},
   * because in a fat jar the concatenated reference.conf lets Pekko's own later defaults win.
   */
  private static Config pekkoOverrides(Config reference) {
    return reference.hasPath(PEKKO_OVERRIDES) ? reference.getConfig(PEKKO_OVERRIDES) : ConfigFactory.empty();
  }

  private static Config environmentLayer(Map<String, String> env) {
    Config c = ConfigFactory.empty();
    for (Map.Entry<String, String> e : ENV_KEYS.entrySet()) {
      String value = env.get(e.getKey());
      if (value != null) {
        c = c.withValue(ROOT + "." + e.getValue(),
            ConfigValueFactory.fromAnyRef(value, "environment variable " + e.getKey()));
      }
    }
    return c;
  }

  /**
   * Resolves once. {@code ${?VAR}} in an operator file is looked up in {@code env}, as HOCON does with
   * the process environment, so the loader never reads the real environment behind its caller's back.
   */
  private static Config resolve(Config unresolved, Map<String, String> env) {
    try {
      return unresolved.resolve(ConfigResolveOptions.noSystem().appendResolver(new EnvResolver(env)));
    } catch (ConfigException e) {
      ConfigOrigin origin = e.origin();
      String where = origin == null ? "configuration"
          : origin.filename() != null && origin.lineNumber() > 0 ? origin.filename() + ":" + origin.lineNumber()
          : origin.description();
      Matcher substitution = SUBSTITUTION.matcher(String.valueOf(e.getMessage()));
      throw substitution.find()
          ? new ConfigError(where, substitution.group(), "no such key, and no such environment variable")
          : new ConfigError(where, "", oneLine(e.getMessage()));
    }
  }

  private record EnvResolver(Map<String, String> env) implements ConfigResolver {
    @Override
    public ConfigValue lookup(String path) {
      String value = env.get(path);
      return value == null ? null : ConfigValueFactory.fromAnyRef(value, "environment variable " + path);
    }

    @Override
    public ConfigResolver withFallback(ConfigResolver fallback) {
      return new ConfigResolver() {
        @Override
        public ConfigValue lookup(String path) {
          ConfigValue v = EnvResolver.this.lookup(path);
          return v != null ? v : fallback.lookup(path);
        }

        @Override
        public ConfigResolver withFallback(ConfigResolver next) {
          return EnvResolver.this.withFallback(fallback.withFallback(next));
        }
      };
    }
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
  }

  /** Reads and checks each key of the merged configuration; pure checks first, file system last. */
  private static final class Reader {
    private final Config c;
    private final Map<String, String> env;
    private final Path cwd;

    Reader(Config c, Map<String, String> env, Path cwd) {
      this.c = c;
      this.env = env;
      this.cwd = cwd;
    }

    Settings read() {
      String host = nonEmpty("http.host");
      int port = integer("http.port", 1, 65535);
      int maxConnections = integer("http.max-connections", 1, Integer.MAX_VALUE);
      Optional<String> certFileText = optional("http.tls.cert-file");
      Optional<String> keyFileText = optional("http.tls.key-file");
      if (certFileText.isPresent() != keyFileText.isPresent()) {
        String missing = certFileText.isPresent() ? "http.tls.key-file" : "http.tls.cert-file";
        String given = certFileText.isPresent() ? "http.tls.cert-file" : "http.tls.key-file";
        throw error(missing, "must be set when " + label(given) + " is: TLS needs both the certificate and its key");
      }
      Duration tlsReloadInterval = duration("http.tls.reload-interval");
      String dataDirText = nonEmpty("data-dir");
      String dbUrl = string("db.url").trim();
      if (!dbUrl.isEmpty() && !dbUrl.startsWith("jdbc:sqlite:") && !dbUrl.startsWith("jdbc:postgresql:")) {
        throw error("db.url", "must start with jdbc:sqlite: or jdbc:postgresql:");
      }
      String dbUser = string("db.user");
      String dbPassword = string("db.password");
      int poolSize = integer("db.pool-size", 1, Integer.MAX_VALUE);
      String synchronous = string("db.sqlite-synchronous").trim().toUpperCase(Locale.ROOT);
      if (!SYNCHRONOUS.contains(synchronous)) throw error("db.sqlite-synchronous", "must be one of OFF, NORMAL, FULL, EXTRA");
      Optional<String> adminToken = token("admin-token");
      if (adminToken.isPresent() && adminToken.get().length() < MIN_ADMIN_TOKEN) {
        throw error("admin-token", "must be at least " + MIN_ADMIN_TOKEN + " characters, or empty to have one generated");
      }
      List<Cidr> trustedProxies = cidrs("trusted-proxies");
      Optional<String> metricsToken = token("metrics.token");
      Optional<String> tokenFileText = optional("metrics.token-file");
      if (metricsToken.isPresent() && tokenFileText.isPresent()) {
        throw error("metrics.token-file", "set either metrics.token or metrics.token-file, not both");
      }
      List<Cidr> metricsCidrs = cidrs("metrics.trusted-cidr");
      int maxInFlight = integer("metrics.max-in-flight", 1, Integer.MAX_VALUE);
      Duration helloTimeout = duration("agents.hello-timeout");
      Duration offlineAfter = duration("agents.offline-after");
      Duration heartbeat = duration("agents.heartbeat-interval");
      if (heartbeat.compareTo(offlineAfter) >= 0) {
        throw error("agents.heartbeat-interval", "must be shorter than " + ROOT + ".agents.offline-after ("
            + shown("agents.offline-after") + ")");
      }
      int maxFrame = bytes("agents.max-frame-bytes", MIN_FRAME, MAX_FRAME);
      Duration enrollmentTtl = duration("agents.enrollment-token-ttl");
      Duration storeTimeout = duration("agents.store-timeout");
      Duration backupMaxAge = duration("alerts.backup-max-age");
      Duration checkInterval = duration("alerts.check-interval");
      Duration jobsRetention = retention("jobs.retention");
      Duration askTimeout = duration("ask-timeout");
      refuseNetworkByteLogging();

      Settings.Cluster cluster = cluster(dbUrl.isEmpty() || dbUrl.startsWith("jdbc:sqlite:"));

      Optional<Path> tokenFile = tokenFileText.map(t -> readableTokenFile("metrics.token-file", t));
      Optional<Settings.Tls> tls = certFileText.map(cert -> tlsPair(cert, keyFileText.get(), tlsReloadInterval));
      Path dataDir = writableDirectory("data-dir", dataDirText);
      String url = dbUrl.isEmpty() ? "jdbc:sqlite:" + dataDir.resolve("restic-manager.db") : dbUrl;

      return new Settings(
          new Settings.Http(host, port, maxConnections, tls),
          dataDir,
          new Settings.Db(url, dbUser, dbPassword, poolSize, synchronous),
          adminToken,
          trustedProxies,
          new Settings.Metrics(metricsToken, tokenFile, metricsCidrs, maxInFlight),
          new Settings.Agents(helloTimeout, offlineAfter, heartbeat, maxFrame, enrollmentTtl, storeTimeout),
          new Settings.Alerts(backupMaxAge, checkInterval),
          new Settings.Jobs(jobsRetention, duration("jobs.sweep-interval")),
          askTimeout,
          cluster);
    }

    /**
     * Seed nodes make a cluster of several nodes, which must share one PostgreSQL database; a cluster port
     * reachable beyond loopback must speak TLS with certificates of the operator's CA.
     */
    private Settings.Cluster cluster(boolean sqlite) {
      String host = nonEmpty("cluster.host");
      List<String> seeds = new ArrayList<>();
      for (String seed : string("cluster.seed-nodes").split(",")) {
        String t = seed.trim();
        if (t.isEmpty()) continue;
        if (!SEED.matcher(t).matches() || Integer.parseInt(t.substring(t.lastIndexOf(':') + 1)) > 65535) {
          throw new ConfigError(label("cluster.seed-nodes"), t,
              "each seed node must be host:port with a port from 1 to 65535 ([::1]:25520 for IPv6)"
                  + where("cluster.seed-nodes"));
        }
        if (!seeds.contains(t)) seeds.add(t);
      }
      String portText = string("cluster.port").trim();
      int port = portText.isEmpty() ? (seeds.isEmpty() ? 0 : 25520) : integer("cluster.port", 1, 65535);
      if (!seeds.isEmpty() && sqlite) {
        throw new ConfigError(label("cluster.seed-nodes") + " with " + label("db.url"), shown("cluster.seed-nodes"),
            "several nodes must share one PostgreSQL database (db.url = jdbc:postgresql://...), not SQLite"
                + where("cluster.seed-nodes"));
      }
      List<String> tlsKeys = List.of("cluster.tls.cert-file", "cluster.tls.key-file", "cluster.tls.ca-file");
      List<Optional<String>> tlsTexts = tlsKeys.stream().map(this::optional).toList();
      boolean anyTls = tlsTexts.stream().anyMatch(Optional::isPresent);
      for (int i = 0; i < tlsKeys.size(); i++) {
        if (anyTls && tlsTexts.get(i).isEmpty()) {
          throw error(tlsKeys.get(i), "the cluster's TLS needs all three of cert-file, key-file and ca-file");
        }
      }
      if (!anyTls && !isLoopback(host)) {
        throw new ConfigError(label("cluster.host"), host,
            "a cluster port reachable beyond loopback needs TLS: set " + label("cluster.tls.cert-file") + ", "
                + label("cluster.tls.key-file") + " and " + label("cluster.tls.ca-file") + where("cluster.host"));
      }
      List<Optional<Path>> tls = new ArrayList<>();
      for (int i = 0; i < tlsKeys.size(); i++) {
        String key = tlsKeys.get(i);
        tls.add(tlsTexts.get(i).map(t -> readableFile(key, t)));
      }
      if (anyTls) clusterTls(tls.get(0).get(), tls.get(1).get(), tls.get(2).get());
      return new Settings.Cluster(host, port, List.copyOf(seeds), tls.get(0), tls.get(1), tls.get(2),
          duration("cluster.wake-interval"));
    }

    /**
     * The node's pair must match and be valid, the CA file must hold a certificate, and the key must be one
     * Pekko's TLS transport reads itself (pekko-pki's loader: RSA, PKCS#1 or PKCS#8), so that a bad file
     * stops start-up here and not at the first connection between nodes.
     */
    private void clusterTls(Path cert, Path key, Path ca) {
      try {
        TlsPair.read(cert, key, Instant.now());
      } catch (TlsPair.Invalid e) {
        String k = e.part() == TlsPair.Part.CERT ? "cluster.tls.cert-file" : "cluster.tls.key-file";
        throw new ConfigError(label(k), e.file().toString(), e.getMessage() + where(k));
      }
      try {
        DERPrivateKeyLoader.load(PEMDecoder.decode(Files.readString(key, StandardCharsets.US_ASCII)));
      } catch (Exception e) { // pekko-pki, written in Scala, throws checked exceptions undeclared
        throw new ConfigError(label("cluster.tls.key-file"), key.toString(),
            "Pekko's cluster transport reads only RSA keys (PKCS#1 or PKCS#8): " + oneLine(String.valueOf(e.getMessage()))
                + where("cluster.tls.key-file"));
      }
      try (var in = Files.newInputStream(ca)) {
        if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
          throw new CertificateException("no certificate in the file");
        }
      } catch (IOException | CertificateException e) {
        throw new ConfigError(label("cluster.tls.ca-file"), ca.toString(),
            "is not a PEM file of CA certificates: " + oneLine(String.valueOf(e.getMessage())) + where("cluster.tls.ca-file"));
      }
    }

    /** A loopback address literal, or {@code localhost}; names are never looked up. */
    private static boolean isLoopback(String host) {
      String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
      if (h.equalsIgnoreCase("localhost")) return true;
      return IpLiteral.parse(h).map(java.net.InetAddress::isLoopbackAddress).orElse(false);
    }

    private Path readableFile(String key, String text) {
      Path p = file(key, text);
      if (!Files.isRegularFile(p)) throw new ConfigError(label(key), p.toString(), "no such file" + where(key));
      if (!Files.isReadable(p)) throw new ConfigError(label(key), p.toString(), "cannot be read" + where(key));
      return p;
    }

    private static String path(String key) {
      return ROOT + "." + key;
    }

    /**
     * When the key holds a value of the wrong kind, says what was expected; when the key cannot be
     * reached at all (unset, null, or a parent that is not an object), passes on Typesafe's account,
     * which names types and origins but never values.
     */
    private <T> T get(String key, String expectation, Supplier<T> getter) {
      try {
        return getter.get();
      } catch (ConfigException e) {
        if (!reachable(key)) throw new ConfigError(label(key), "", oneLine(e.getMessage()));
        throw error(key, expectation);
      }
    }

    private boolean reachable(String key) {
      try {
        c.getValue(path(key));
        return true;
      } catch (ConfigException e) {
        return false;
      }
    }

    private ConfigValue value(String key) {
      return get(key, "must be set", () -> c.getValue(path(key)));
    }

    private String string(String key) {
      return get(key, "must be a string", () -> c.getString(path(key)));
    }

    private String nonEmpty(String key) {
      String s = string(key).trim();
      if (s.isEmpty()) throw error(key, "must not be empty");
      return s;
    }

    /** Paths cannot meaningfully start or end in blanks, so they are trimmed; blank is unset. */
    private Optional<String> optional(String key) {
      String s = string(key).trim();
      return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    /**
     * A bearer token: any printable Unicode, surrounding whitespace removed as it is from a header and from
     * the token file; blank is unset. A control character could never arrive in an HTTP header. U+FFFD is
     * what Java 17 makes of a variable's bytes that the locale's charset (ASCII without a locale) cannot
     * decode, and distinct tokens would collapse into the same string of them.
     */
    private Optional<String> token(String key) {
      String s = string(key).strip();
      if (s.isEmpty()) return Optional.empty();
      if (s.indexOf('\uFFFD') >= 0) {
        throw error(key, "holds U+FFFD, the mark of bytes that could not be decoded: run the server in a UTF-8"
            + " locale (such as LANG=C.UTF-8) or set the token in the configuration file");
      }
      if (s.codePoints().anyMatch(Character::isISOControl)) {
        throw error(key, "must be printable: a control character cannot be sent in an HTTP header");
      }
      return Optional.of(s);
    }

    /** Pekko's hex dump of the traffic would write every request, Authorization header included, to the log. */
    private void refuseNetworkByteLogging() {
      String key = "pekko.http.server.log-unencrypted-network-bytes";
      if (!c.hasPath(key)) return;
      String value = c.getValue(key).unwrapped().toString();
      if (!value.equalsIgnoreCase("off")) {
        throw new ConfigError(key, value, "must be off: it would write every request, tokens included, to the log"
            + origin(c.getValue(key).origin()));
      }
    }

    /** Strict: {@code 8080.5} or {@code "80a"} is an error, never silently truncated. */
    private int integer(String key, int min, int max) {
      String range = max == Integer.MAX_VALUE ? "an integer of at least " + min : "an integer from " + min + " to " + max;
      Object raw = value(key).unwrapped();
      long n;
      if (raw instanceof Integer || raw instanceof Long) {
        n = ((Number) raw).longValue();
      } else if (raw instanceof String s && INTEGER.matcher(s.trim()).matches()) {
        n = Long.parseLong(s.trim());
      } else {
        throw error(key, "must be " + range);
      }
      if (n < min || n > max) throw error(key, "must be " + range);
      return (int) n;
    }

    private int bytes(String key, long min, long max) {
      String range = "must be a size from " + min + " bytes to " + (max / (1024 * 1024)) + " MiB";
      long n = get(key, range, () -> c.getBytes(path(key)));
      if (n < min || n > max) throw error(key, range);
      return (int) n;
    }

    /** A bare number would be read as milliseconds by HOCON; a unit is required so {@code 90} is never 90 ms. */
    private Duration duration(String key) {
      String expectation = "must be a positive duration with a unit, such as 10s, 5m or 26h";
      ConfigValue v = value(key);
      if (v.valueType() == ConfigValueType.NUMBER
          || (v.valueType() == ConfigValueType.STRING && DIGITS_ONLY.matcher(((String) v.unwrapped()).trim()).matches())) {
        throw error(key, expectation);
      }
      Duration d = get(key, expectation, () -> c.getDuration(path(key)));
      if (d.isZero() || d.isNegative()) throw error(key, expectation);
      return d;
    }

    /** A duration as {@link #duration}, or {@code 0}: keep forever ({@link Duration#ZERO}). */
    private Duration retention(String key) {
      ConfigValue v = value(key);
      Object raw = v.unwrapped();
      if (raw instanceof Number n && n.doubleValue() == 0 || raw instanceof String t && t.trim().equals("0")) {
        return Duration.ZERO;
      }
      try {
        return duration(key);
      } catch (ConfigError e) {
        throw error(key, "must be 0 (keep every job) or a positive duration with a unit, such as 90d or 12h");
      }
    }

    /** Comma-separated text or a HOCON list of such texts. */
    private List<Cidr> cidrs(String key) {
      ConfigValue v = value(key);
      List<String> texts = new ArrayList<>();
      if (v.valueType() == ConfigValueType.LIST) {
        texts.addAll(get(key, "must be comma-separated CIDRs or a list of them", () -> c.getStringList(path(key))));
      } else if (v.valueType() == ConfigValueType.STRING) {
        texts.add((String) v.unwrapped());
      } else {
        throw error(key, "must be comma-separated CIDRs or a list of them");
      }
      List<Cidr> out = new ArrayList<>();
      for (String text : texts) {
        try {
          out.addAll(Cidr.parseList(text));
        } catch (IllegalArgumentException e) {
          throw new ConfigError(label(key), e.getMessage(),
              "not an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8" + where(key));
        }
      }
      return List.copyOf(out);
    }

    private Path file(String key, String text) {
      try {
        return cwd.resolve(text).toAbsolutePath().normalize();
      } catch (InvalidPathException e) {
        throw error(key, "not a valid path: " + e.getReason());
      }
    }

    /** Checked once here so a typo stops start-up; the scrape guard re-reads the file every time. */
    private Path readableTokenFile(String key, String text) {
      Path p = file(key, text);
      if (Files.isDirectory(p)) throw new ConfigError(label(key), p.toString(), "is a directory, not a file" + where(key));
      byte[] content;
      try {
        content = Files.readAllBytes(p);
      } catch (IOException e) {
        throw new ConfigError(label(key), p.toString(), "cannot be read: " + describe(e) + where(key));
      }
      if (new String(content, StandardCharsets.UTF_8).isBlank()) {
        throw new ConfigError(label(key), p.toString(), "the file is empty" + where(key));
      }
      return p;
    }

    /**
     * Reads and checks the pair now, so a typo, a wrong key or an expired certificate stops start-up; the
     * server reads the files again when they change. The error names the file the problem is in.
     */
    private Settings.Tls tlsPair(String certText, String keyText, Duration reloadInterval) {
      Path cert = file("http.tls.cert-file", certText);
      Path key = file("http.tls.key-file", keyText);
      try {
        TlsPair.read(cert, key, Instant.now());
      } catch (TlsPair.Invalid e) {
        String k = e.part() == TlsPair.Part.CERT ? "http.tls.cert-file" : "http.tls.key-file";
        throw new ConfigError(label(k), e.file().toString(), e.getMessage() + where(k));
      }
      return new Settings.Tls(cert, key, reloadInterval);
    }

    /** Creates the directory when missing, then proves it writable by creating and deleting a file. */
    private Path writableDirectory(String key, String text) {
      Path dir = file(key, text);
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new ConfigError(label(key), dir.toString(), "exists and is not a directory" + where(key));
      }
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new ConfigError(label(key), dir.toString(), "cannot be created: " + describe(e) + where(key));
      }
      try {
        Path probe = Files.createTempFile(dir, ".write-probe-", ".tmp");
        Files.delete(probe);
      } catch (IOException e) {
        throw new ConfigError(label(key), dir.toString(), "is not writable: " + describe(e) + where(key));
      }
      return dir;
    }

    private static String describe(IOException e) {
      if (e instanceof FileAlreadyExistsException f) return f.getFile() + " exists and is not a directory";
      if (e instanceof NoSuchFileException f) return f.getFile() + " does not exist";
      if (e instanceof AccessDeniedException f) return "permission denied on " + f.getFile();
      if (e instanceof FileSystemException f) {
        return (f.getReason() == null ? e.getClass().getSimpleName() : f.getReason()) + " (" + f.getFile() + ")";
      }
      return oneLine(e.getMessage());
    }

    private ConfigError error(String key, String reason) {
      return new ConfigError(label(key), shown(key), reason + where(key));
    }

    private static String label(String key) {
      String variable = variableOf(key);
      return path(key) + (variable == null ? "" : " (" + variable + ")");
    }

    private static String variableOf(String key) {
      for (Map.Entry<String, String> e : ENV_KEYS.entrySet()) {
        if (e.getValue().equals(key)) return e.getKey();
      }
      return null;
    }

    /** The value as the operator wrote it; secrets as {@code ***}, credentials inside a URL masked. */
    private String shown(String key) {
      if (SECRETS.contains(key)) return "***";
      ConfigValue v;
      try {
        v = c.getValue(path(key));
      } catch (ConfigException e) {
        return "";
      }
      String text = v.valueType() == ConfigValueType.STRING
          ? (String) v.unwrapped()
          : v.render(ConfigRenderOptions.concise());
      return key.equals("db.url") ? maskUrl(text) : text;
    }

    static String maskUrl(String url) {
      return url
          .replaceAll("(?i)(password=)[^&;]*", "$1***")
          .replaceAll("//([^/@:]*):[^/@]*@", "//$1:***@");
    }

    /** Which layer set the value, so an operator knows whether to fix a file or a variable. */
    private String where(String key) {
      String variable = variableOf(key);
      if (variable != null && env.containsKey(variable)) return " (set by " + variable + ")";
      try {
        return origin(c.getValue(path(key)).origin());
      } catch (ConfigException e) {
        return "";
      }
    }

    private static String origin(ConfigOrigin origin) {
      if (origin.resource() != null || origin.filename() == null) return "";
      return " (set in " + origin.filename() + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "") + ")";
    }
  }
}
