package io.resticmanager.fleet;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.HostRow;
import io.resticmanager.store.HostStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * This node's handle on the fleet, for the routes and the agent sockets: each host's {@link HostEntity}
 * through sharding (wherever in the cluster it runs), this node's {@link NodeHosts}, and the host list
 * of the whole cluster (every node's view asked through the receptionist, laid over the stored hosts).
 * Holds no state of its own. Every ask has a timeout; a timeout fails the returned stage.
 */
public final class Fleet {
  /** How long the host list waits for another node's view before showing that node's hosts as stored. */
  private static final Duration VIEW_WAIT = Duration.ofSeconds(2);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final HostStore store;
  private final ActorRef<NodeHosts.Command> view;
  private final Duration askTimeout;

  public Fleet(ActorSystem<?> system, ClusterSharding sharding, HostStore store, ActorRef<NodeHosts.Command> view,
      Duration askTimeout) {
    this.system = system;
    this.sharding = sharding;
    this.store = store;
    this.view = view;
    this.askTimeout = askTimeout;
  }

  /** The host's entity, wherever it runs. */
  public EntityRef<HostEntity.Command> host(String hostId) {
    return sharding.entityRefFor(HostEntity.TYPE_KEY, hostId);
  }

  /** Makes sure the host's entity runs (after enrolment, and for the keeper). */
  public void wake(String hostId) {
    host(hostId).tell(HostEntity.Wake.INSTANCE);
  }

  /** The host as the API shows it, or {@link HostEntity.NoSuchHost}. */
  public CompletionStage<HostEntity.HostReply> get(String hostId) {
    return host(hostId).ask(HostEntity.GetHost::new, askTimeout);
  }

  public CompletionStage<HostEntity.Removed> remove(String hostId) {
    return host(hostId).ask(HostEntity.Remove::new, askTimeout);
  }

  /** {@code restore} says what a restore job restores; null for other kinds. */
  public CompletionStage<HostEntity.RunJobReply> runJob(String hostId, JobKind kind, RestoreSpec restore) {
    return host(hostId).ask(r -> new HostEntity.RunJob(kind, restore, r), askTimeout);
  }

  public void acknowledged(AlertRow alert) {
    host(alert.hostId()).tell(new HostEntity.AlertAcknowledged(alert));
  }

  /** What this node's {@code /metrics} shows of the hosts whose entity runs here. */
  public CompletionStage<FleetSample> sample() {
    return AskPattern.ask(view, NodeHosts.GetSample::new, askTimeout, system.scheduler());
  }

  /**
   * Every enrolled host, by name, as stored, with online, last seen and versions as its entity last told its
   * node's view; offline as stored when its entity runs on no node that answered within {@link #VIEW_WAIT} (it is
   * starting, or its node is unreachable). Fails only when the store cannot be read or the receptionist
   * does not answer.
   */
  public CompletionStage<List<HostView>> list() {
    CompletionStage<List<HostRow>> rows = store.all();
    CompletionStage<Map<String, NodeHosts.Live>> live = this.<NodeHosts.Live, NodeHosts.LiveHosts>fromViews(
        (v, after, r) -> new NodeHosts.ListLive(after, r));
    return rows.thenCombine(live, (stored, byId) -> {
      List<HostView> out = new ArrayList<>(stored.size());
      for (HostRow r : stored) {
        NodeHosts.Live l = byId.get(r.id());
        out.add(l == null ? HostView.offline(r) : new HostView(r.id(), r.name(), l.online(),
            Math.max(l.lastSeenAt(), r.lastSeenAt()), l.agentVersion(), l.resticVersion(), l.os(), r.enrolledAt()));
      }
      return List.copyOf(out);
    });
  }

  /**
   * Every enrolled host as the status page shows it ({@link HostStatus}), in stored order: one read of the
   * hosts table and every node's view asked for its hosts in pages, as {@link #list()} does; a host no view
   * answered for within {@link #VIEW_WAIT} is shown as stored, offline. Never a query per host.
   */
  public CompletionStage<List<HostStatus>> statuses() {
    CompletionStage<List<HostRow>> rows = store.all();
    // This node's own view answers unpaged: a local reply crosses no frame.
    CompletionStage<Map<String, HostStatus>> live = this.<HostStatus, NodeHosts.HostStatuses>fromViews(
        (v, after, r) -> new NodeHosts.ListStatus(after, !v.equals(view), r));
    return rows.thenCombine(live, (stored, byId) -> {
      List<HostStatus> out = new ArrayList<>(stored.size());
      for (HostRow r : stored) {
        HostStatus s = byId.get(r.id());
        out.add(s == null ? HostStatus.stored(r) : s.withStored(r));
      }
      return List.copyOf(out);
    });
  }

  /** How to ask one node's view for the page of its hosts after {@code after}. */
  @FunctionalInterface
  private interface PageRequest<P> {
    NodeHosts.Command of(ActorRef<NodeHosts.Command> view, String after, ActorRef<P> replyTo);
  }

  /**
   * The hosts of every reachable node's view, by id: each view asked with {@code request} page after page, all
   * within {@link #VIEW_WAIT}; a view that does not answer in time contributes what it answered so far.
   */
  private <H extends NodeHosts.Listed, P extends NodeHosts.ListedPage<H>> CompletionStage<Map<String, H>> fromViews(
      PageRequest<P> request) {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(), r -> Receptionist.find(NodeHosts.KEY, r), askTimeout, system.scheduler())
        .thenCompose(listing -> {
          Set<Address> unreachable = new HashSet<>();
          for (Member m : Cluster.get(system).state().getUnreachable()) unreachable.add(m.address());
          Map<String, H> byId = new ConcurrentHashMap<>();
          List<CompletableFuture<Void>> asks = new ArrayList<>();
          long deadline = System.nanoTime() + VIEW_WAIT.toNanos();
          for (ActorRef<NodeHosts.Command> v : listing.getServiceInstances(NodeHosts.KEY)) {
            if (unreachable.contains(v.path().address())) continue;
            asks.add(pages(v, "", deadline, request, byId).exceptionally(e -> null).toCompletableFuture());
          }
          return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(x -> byId);
        });
  }

  /**
   * Every page of one node's view from {@code after} on, into {@code byId}; all pages within the deadline.
   * During a hand-off a host may be on two nodes for a moment: the one that heard from it last wins.
   */
  private <H extends NodeHosts.Listed, P extends NodeHosts.ListedPage<H>> CompletionStage<Void> pages(
      ActorRef<NodeHosts.Command> view, String after, long deadline, PageRequest<P> request, Map<String, H> byId) {
    Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
    return AskPattern.<NodeHosts.Command, P>ask(view, r -> request.of(view, after, r), left, system.scheduler())
        .thenCompose(page -> {
          for (H h : page.hosts()) {
            byId.merge(h.id(), h, (a, b) -> b.lastSeenAt() > a.lastSeenAt() ? b : a);
          }
          if (!page.more() || page.hosts().isEmpty()) return CompletableFuture.completedFuture(null);
          return pages(view, page.hosts().get(page.hosts().size() - 1).id(), deadline, request, byId);
        });
  }
}
