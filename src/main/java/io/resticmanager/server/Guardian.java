package io.resticmanager.server;

import io.resticmanager.agents.AgentSocket;
import io.resticmanager.agents.AgentSocketRoutes;
import io.resticmanager.cluster.ClusterConfig;
import io.resticmanager.cluster.ClusterMembers;
import io.resticmanager.config.Settings;
import io.resticmanager.fleet.Fleet;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.fleet.HostKeeper;
import io.resticmanager.jobs.HistoryPruner;
import io.resticmanager.fleet.NodeHosts;
import io.resticmanager.http.AlertRoutes;
import io.resticmanager.http.ApiDirectives;
import io.resticmanager.http.EnrollmentRoutes;
import io.resticmanager.http.HealthRoutes;
import io.resticmanager.http.HostRoutes;
import io.resticmanager.http.HttpServerLog;
import io.resticmanager.http.JobRoutes;
import io.resticmanager.http.MetricsRoutes;
import io.resticmanager.http.ScrapeDirectives;
import io.resticmanager.http.ScrapeGuard;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.Database;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import io.resticmanager.ui.Sessions;
import io.resticmanager.ui.UiRoutes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root behavior of a node: joins the cluster (a cluster of one when no seed nodes are configured),
 * starts sharding of {@link HostEntity}, spawns this node's {@link JobTracker}, {@link NodeHosts} and
 * {@link HostKeeper}, the cluster's one {@link HistoryPruner} (unless every job is kept), builds the routes, binds HTTP (HTTPS with {@link ServerTls}, whose file checks it
 * schedules) and registers the shutdown order with {@link CoordinatedShutdown}: stop the TLS file checks
 * and unbind, close every agent socket with 1001 and drain HTTP connections, save the node's pending
 * last-seen times and flush the store; then Pekko hands this node's entities off and leaves the cluster,
 * after which the last-seen times and the store are flushed once more. The database itself is closed by
 * {@code Main} after the actor system has terminated, so nothing can write to a closed store.
 */
public final class Guardian {
  private static final Logger log = LoggerFactory.getLogger(Guardian.class);
  private static final Duration SHUTDOWN_STEP = Duration.ofSeconds(10);
  // Ends as soon as every socket has closed; the bound only matters for peers that never answer.
  private static final Duration AGENT_DRAIN = Duration.ofSeconds(10);
  /** How long a status-page login lasts (sessions are this node's, in memory). */
  private static final Duration UI_SESSION_TTL = Duration.ofHours(12);

  private Guardian() {}

  /** What the started server exposes to {@code Main} and tests. */
  public record Started(ServerBinding binding, Fleet fleet, ActorRef<JobTracker.Command> jobTracker) {}

  public static Behavior<Void> create(
      Settings settings, Database db, String adminToken, Optional<ServerTls> tls,
      CompletableFuture<Started> started) {
    return Behaviors.setup(ctx -> {
      ActorSystem<Void> system = ctx.getSystem();
      ClusterConfig.join(system, settings.cluster());
      // A bug in one message must not take the server down: log it and keep the actor's state.
      ActorRef<JobTracker.Command> tracker = ctx.spawn(
          Behaviors.supervise(JobTracker.create()).onFailure(Exception.class, SupervisorStrategy.resume()),
          "job-tracker");
      HostStore hosts = new HostStore(db);
      JobStore jobs = new JobStore(db);
      AlertStore alerts = new AlertStore(db);
      ActorRef<NodeHosts.Command> view = ctx.spawn(
          Behaviors.supervise(NodeHosts.create(hosts)).onFailure(Exception.class, SupervisorStrategy.resume()),
          "node-hosts");
      HostEntity.Deps deps = new HostEntity.Deps(settings.agents(), settings.alerts(), hosts, jobs, alerts, view,
          System::currentTimeMillis);
      ClusterSharding sharding = ClusterSharding.get(system);
      sharding.init(Entity.of(HostEntity.TYPE_KEY, entity -> Behaviors.supervise(
              HostEntity.create(entity.getEntityId(), deps, entity.getShard()))
              .onFailure(Exception.class, SupervisorStrategy.restart()))
          .withStopMessage(HostEntity.HandOff.INSTANCE));
      Duration ask = settings.askTimeout();
      Fleet fleet = new Fleet(system, sharding, hosts, view, ask);
      ctx.spawn(HostKeeper.create(hosts, fleet, settings.cluster().wakeInterval()), "host-keeper");
      if (!settings.jobs().keepsEverything()) {
        ClusterSingleton.get(system).init(SingletonActor.of(HistoryPruner.create(jobs, settings.jobs().retention(),
            HistoryPruner.Pace.every(settings.jobs().sweepInterval()), System::currentTimeMillis), "history-pruner"));
      }

      ScrapeGuard.ScrapePolicy scrape = ScrapeGuard.ScrapePolicy.of(settings.metrics(), settings.trustedProxies());
      AgentSocket agentSocket = new AgentSocket(system, fleet, tracker, settings.agents());
      Cluster cluster = Cluster.get(system);
      Route routes = routes(
          new HealthRoutes(db).route(),
          new MetricsRoutes(scrape, new ScrapeDirectives(), tracker,
              () -> fleet.sample().thenApply(s -> s.withAgentsConnected(agentSocket.connected())),
              () -> ClusterMembers.count(cluster), ask, system.scheduler(), settings.metrics().maxInFlight()).route(),
          new AgentSocketRoutes(hosts, agentSocket).route(),
          new EnrollmentRoutes(adminToken, hosts, fleet, settings.agents().enrollmentTokenTtl()).route(),
          new HostRoutes(adminToken, fleet).route(),
          new JobRoutes(adminToken, jobs).route(),
          new AlertRoutes(adminToken, alerts, fleet).route(),
          new UiRoutes(adminToken, fleet, hosts, jobs, alerts, new Sessions(UI_SESSION_TTL, System::currentTimeMillis),
              tls.isPresent(), settings.alerts().backupMaxAge(), System::currentTimeMillis).route());

      ServerBuilder server = Http.get(system).newServerAt(settings.http().host(), settings.http().port())
          .logTo(HttpServerLog.create(system));
      if (tls.isPresent()) {
        server = server.enableHttps(tls.get().connectionContext());
        Cancellable checks = tls.get().scheduleChecks(system.scheduler(),
            system.dispatchers().lookup(DispatcherSelector.blocking()));
        // No certificate reload once the listener is going away.
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "tls-checks-stop", () -> {
          checks.cancel();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
        log.info("TLS: {}", tls.get());
      }
      server.bind(routes)
          .whenComplete((binding, failure) -> {
            if (failure != null) {
              started.completeExceptionally(failure);
              return;
            }
            registerShutdown(system, binding, agentSocket, view, db);
            log.info("Listening on [{}]; /metrics {}", url(tls.isPresent(), binding.localAddress()),
                scrape.enabled() ? "enabled" : "not mounted (no metrics token, token file or trusted CIDR)");
            started.complete(new Started(binding, fleet, tracker));
          });
      return Behaviors.empty();
    });
  }

  /** {@code https://127.0.0.1:8443}, {@code http://[::1]:8080}: what a client would type. */
  static String url(boolean https, InetSocketAddress address) {
    try {
      return new URI(https ? "https" : "http", null, address.getAddress().getHostAddress(), address.getPort(), null,
          null, null).toString();
    } catch (URISyntaxException e) {
      return address.toString();
    }
  }

  private static void registerShutdown(
      ActorSystem<Void> system, ServerBinding binding, AgentSocket agentSocket, ActorRef<NodeHosts.Command> view,
      Database db) {
    CoordinatedShutdown cs = CoordinatedShutdown.get(system);
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind",
        () -> binding.unbind().thenApply(x -> Done.getInstance()));
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "agents-close-and-drain",
        () -> agentSocket.drain(AGENT_DRAIN)
            .thenCompose(d -> binding.terminate(SHUTDOWN_STEP))
            .thenApply(x -> Done.getInstance()));
    cs.addTask(CoordinatedShutdown.PhaseServiceStop(), "hosts-and-store-flush", () -> flush(system, view, db));
    // After the hand-off of this node's entities: what they did since is saved too.
    cs.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "hosts-and-store-final-flush",
        () -> flush(system, view, db));
  }

  private static CompletionStage<Done> flush(ActorSystem<Void> system, ActorRef<NodeHosts.Command> view, Database db) {
    return AskPattern.ask(view, NodeHosts.Flush::new, SHUTDOWN_STEP, system.scheduler())
        .thenCompose(d -> db.flush())
        .thenApply(x -> Done.getInstance());
  }

  /** Joins the route classes, with JSON bodies for rejections and a generic 500 for exceptions. */
  static Route routes(Route... parts) {
    AllDirectives d = new AllDirectives() {};
    RejectionHandler rejections = RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
      if (response.entity() instanceof HttpEntity.Strict strict
          && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
        String code = response.status().intValue() == 404 ? "not_found"
            : response.status().intValue() == 405 ? "method_not_allowed" : "bad_request";
        return response.withEntity(ContentTypes.APPLICATION_JSON,
            io.resticmanager.http.ApiJson.error(code, strict.getData().utf8String().strip()));
      }
      return response;
    });
    ExceptionHandler exceptions = ExceptionHandler.newBuilder()
        .match(Exception.class, e -> {
          log.warn("Unhandled error in a route: {}", e.toString());
          return d.complete(ApiDirectives.error(StatusCodes.INTERNAL_SERVER_ERROR, "internal",
              "The request could not be completed."));
        })
        .build();
    return d.handleExceptions(exceptions, () -> d.handleRejections(rejections, () -> d.concat(parts[0],
        java.util.Arrays.copyOfRange(parts, 1, parts.length))));
  }
}
