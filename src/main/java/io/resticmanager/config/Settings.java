package io.resticmanager.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The server's validated, immutable settings. Built only by {@link SettingsLoader}; every value here
 * has passed validation. {@link #toString()} never prints a secret.
 */
public record Settings(
    Http http,
    Path dataDir,
    Db db,
    Optional<String> adminToken,
    List<Cidr> trustedProxies,
    Metrics metrics,
    Agents agents,
    Alerts alerts,
    Jobs jobs,
    Duration askTimeout,
    Cluster cluster) {

  /**
   * Where HTTP listens. {@code maxConnections} is Pekko's server-wide connection cap (≥ fleet size).
   * With {@code tls} the listener speaks only HTTPS/WSS.
   */
  public record Http(String host, int port, int maxConnections, Optional<Tls> tls) {}

  /**
   * The listener's certificate (chain) and key files, both absolute; they held a good pair at start and
   * are checked for changes every {@code reloadInterval}.
   */
  public record Tls(Path certFile, Path keyFile, Duration reloadInterval) {}

  /**
   * JDBC settings. {@code url} is already resolved (the SQLite default points into the data dir).
   * {@code sqliteSynchronous} is the SQLite {@code synchronous} pragma (FULL by default).
   */
  public record Db(String url, String user, String password, int poolSize, String sqliteSynchronous) {
    public boolean isSqlite() {
      return url.startsWith("jdbc:sqlite:");
    }

    @Override
    public String toString() {
      return "Db[url=" + url.replaceAll("(?i)(password=)[^&;]*", "$1***") + ", user=" + user + ", password=" + (password.isEmpty() ? "" : "***")
          + ", poolSize=" + poolSize + ", sqliteSynchronous=" + sqliteSynchronous + "]";
    }
  }

  /**
   * Who may scrape {@code /metrics}. {@code maxInFlight} bounds concurrent scrapes (excess get 503).
   * The token file is re-read at every scrape so it can be rotated.
   */
  public record Metrics(
      Optional<String> token, Optional<Path> tokenFile, List<Cidr> trustedCidrs, int maxInFlight) {
    /** {@code /metrics} is mounted only when some access rule is configured. */
    public boolean enabled() {
      return token.isPresent() || tokenFile.isPresent() || !trustedCidrs.isEmpty();
    }

    @Override
    public String toString() {
      return "Metrics[token=" + (token.isPresent() ? "***" : "<none>") + ", tokenFile=" + tokenFile
          + ", trustedCidrs=" + trustedCidrs + ", maxInFlight=" + maxInFlight + "]";
    }
  }

  /**
   * The agent channel's limits and deadlines. {@code storeTimeout}: how long a socket waits for its host's
   * entity to say a job event is stored before closing with 1011 so the agent resends.
   */
  public record Agents(
      Duration helloTimeout,
      Duration offlineAfter,
      Duration heartbeatInterval,
      int maxFrameBytes,
      Duration enrollmentTokenTtl,
      Duration storeTimeout) {}

  /**
   * Server-side alert rules: {@code backupMaxAge} without a backup that made a snapshot raises backup_stale,
   * checked every {@code checkInterval}.
   */
  public record Alerts(Duration backupMaxAge, Duration checkInterval) {}

  /**
   * The job history: finished jobs older than {@code retention} are deleted, looked for every
   * {@code sweepInterval}; {@link Duration#ZERO} keeps every job.
   */
  public record Jobs(Duration retention, Duration sweepInterval) {
    public boolean keepsEverything() {
      return retention.isZero();
    }
  }

  /**
   * The node's place in the cluster. {@code port} 0: any free port (a node alone). {@code seedNodes}
   * are {@code host:port} texts, empty when this node is alone. The TLS files are all present or all
   * absent. {@code wakeInterval}: how often every host's entity is woken as a backstop.
   */
  public record Cluster(String host, int port, List<String> seedNodes, Optional<Path> tlsCertFile,
      Optional<Path> tlsKeyFile, Optional<Path> tlsCaFile, Duration wakeInterval) {
    public boolean alone() {
      return seedNodes.isEmpty();
    }

    public boolean tls() {
      return tlsCertFile.isPresent();
    }
  }

  @Override
  public String toString() {
    return "Settings[http=" + http + ", dataDir=" + dataDir + ", db=" + db + ", adminToken="
        + (adminToken.isPresent() ? "***" : "<generated>") + ", trustedProxies=" + trustedProxies
        + ", metrics=" + metrics + ", agents=" + agents + ", alerts=" + alerts + ", askTimeout=" + askTimeout + ", cluster=" + cluster + "]";
  }
}
