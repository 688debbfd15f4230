package io.resticmanager.server;

import io.resticmanager.config.SettingsLoader;
import io.resticmanager.cluster.ClusterConfig;
import io.resticmanager.fleet.Fleet;
import io.resticmanager.store.Database;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running server: database opened and migrated, fleet state loaded, actor system started, HTTP bound.
 * {@link #stop()} runs the coordinated shutdown and closes the database last. Used by {@code Main} and
 * by tests that want a real server in-process.
 */
public final class Server {
  private static final Logger log = LoggerFactory.getLogger(Server.class);
  static final String JDBC_DISPATCHER = "restic-manager.blocking-jdbc-dispatcher";
  private static final Duration SHARDING_WAIT = Duration.ofSeconds(10);
  /** An entity id no host has (host ids are UUIDs). */
  private static final String SHARDING_PROBE = "sharding-probe";

  private final ActorSystem<Void> system;
  private final Database db;
  private final Guardian.Started started;
  private final String adminToken;

  private Server(ActorSystem<Void> system, Database db, Guardian.Started started, String adminToken) {
    this.system = system;
    this.db = db;
    this.started = started;
    this.adminToken = adminToken;
  }

  /** Starts a server; throws when the database cannot be opened or the port cannot be bound. */
  public static Server start(SettingsLoader.Loaded loaded) throws IOException, InterruptedException {
    var settings = loaded.settings();
    String adminToken = AdminToken.resolve(settings);
    Optional<ServerTls> tls = settings.http().tls().isPresent()
        ? Optional.of(ServerTls.load(settings.http().tls().get())) : Optional.empty();
    // The JDBC reader pool runs on the dedicated dispatcher, looked up once the system exists.
    DeferredExecutor readExecutor = new DeferredExecutor();
    Database db = Database.open(settings.db(), readExecutor);
    CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Guardian.create(settings, db, adminToken, tls, started), ClusterConfig.SYSTEM_NAME,
          ClusterConfig.overlay(settings.cluster()).withFallback(loaded.config()));
      readExecutor.set(system.dispatchers().lookup(DispatcherSelector.fromConfig(JDBC_DISPATCHER)));
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    try {
      Guardian.Started s = started.get(60, TimeUnit.SECONDS);
      awaitSharding(s.fleet());
      return new Server(system, db, s, adminToken);
    } catch (ExecutionException | TimeoutException e) {
      system.terminate();
      awaitTermination(system);
      db.close();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IOException("cannot listen on " + settings.http().host() + ":" + settings.http().port() + ": "
          + cause.getMessage(), cause);
    }
  }

  public InetSocketAddress address() {
    return started.binding().localAddress();
  }

  public int port() {
    return address().getPort();
  }

  public String adminToken() {
    return adminToken;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public Guardian.Started started() {
    return started;
  }

  /** Completes when the actor system has terminated (after a stop or a shutdown signal). */
  public CompletableFuture<Void> whenTerminated() {
    return system.getWhenTerminated().toCompletableFuture().thenApply(d -> null);
  }

  /** Graceful stop: unbind, close agents, drain, flush; then the database is closed last. */
  public void stop() {
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
    awaitTermination(system);
    db.close();
  }

  /** Closes the database after the actor system has terminated by other means. */
  public void closeDatabase() {
    db.close();
  }

  /**
   * Waits, at most {@link #SHARDING_WAIT}, until a host's entity answers (an id no host has: it answers "no
   * such host" and passivates), that is until cluster sharding has a coordinator and allocates shards. Until
   * then every message to a host waits in the shard region; a server stopped in that window would wait out
   * the region's graceful-shutdown timeout (10 s) for messages it can never deliver. A node whose cluster has
   * not formed yet starts anyway once the wait is over.
   */
  private static void awaitSharding(Fleet fleet) throws InterruptedException {
    long deadline = System.nanoTime() + SHARDING_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        fleet.get(SHARDING_PROBE).toCompletableFuture().get(1, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        // not allocating shards yet
      }
    }
    log.warn("Cluster sharding did not answer within {}; starting anyway", SHARDING_WAIT);
  }

  private static void awaitTermination(ActorSystem<Void> system) {
    try {
      system.getWhenTerminated().toCompletableFuture().get(Duration.ofMinutes(2).toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("Actor system did not terminate cleanly: {}", e.toString());
    }
  }
}
