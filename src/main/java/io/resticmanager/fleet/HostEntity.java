package io.resticmanager.fleet;

import io.resticmanager.cluster.CborSerializable;
import io.resticmanager.config.Settings;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.store.AlertChange;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import io.resticmanager.store.RepositoryStatsRow;
import io.resticmanager.store.StoredHost;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One enrolled host, sharded over the cluster by host id: the single writer of that host. Owns its live
 * state (online, last seen, versions, last job and last success per kind, the last snapshot, the last
 * backup's added bytes, the latest repository statistics, open alerts), the alert rules of CONTRACT §6 for
 * it, its offline deadline and its staleness check.
 * Every change is persisted through the store before it is believed; a job end and the alerts it raises
 * or resolves commit in one transaction.
 *
 * <p>Starts by loading the host from the store (stashing what arrives meanwhile); a host that is not
 * enrolled answers every request as unknown and passivates. Once loaded, it asks every node's socket
 * directory ({@link AgentLink#DIRECTORY}) to have the host's socket say hello again, so a host whose
 * socket survived the move of its entity is known online without waiting for its next frame. Tells the
 * node-local {@link NodeHosts} of every change and of its own end, so that the node's {@code /metrics}
 * shows exactly the hosts whose entity runs there. Talked to by agent connections, the routes (through
 * {@link Fleet}) and the {@link HostKeeper}; never blocks: JDBC futures come back through
 * {@code pipeToSelf}.
 */
public final class HostEntity extends AbstractBehavior<HostEntity.Command> {
  private static final Logger log = LoggerFactory.getLogger(HostEntity.class);
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "host");
  private static final int STASH = 10_000;
  private static final Duration RELOAD = Duration.ofSeconds(1);

  public sealed interface Command extends CborSerializable {}

  /** Makes sure the entity runs; nothing else. */
  public enum Wake implements Command { INSTANCE }

  /** Sharding's stop message (hand-off, node leaving): tell the node's view the host has gone, and stop. */
  public enum HandOff implements Command { INSTANCE }

  /** What an agent says of itself in {@code hello}. */
  public record AgentHello(String agentVersion, String resticVersion, String os) implements CborSerializable {}

  /** An agent said hello on {@code link}; a previous connection of the host is replaced. */
  public record AgentConnected(AgentHello hello, ActorRef<AgentLink> link) implements Command {}

  /** The connection is gone. */
  public record AgentDisconnected(ActorRef<AgentLink> link) implements Command {}

  /** A frame arrived on {@code link}; adopts the link when the entity knows no connection (after a move). */
  public record AgentSeen(ActorRef<AgentLink> link) implements Command {}

  /** A job's start as the agent reported it. {@code startedAt} is epoch millis. */
  public record JobStart(UUID jobId, JobKind kind, long startedAt) implements CborSerializable {}

  /**
   * A job's end as the agent reported it. {@code finishedAt} is epoch millis; {@code error},
   * {@code summaryJson} and {@code dataAdded} are null when the agent sent none.
   */
  public record JobEnd(UUID jobId, JobStatus status, long finishedAt, int exitCode, String error, String summaryJson,
      Long dataAdded) implements CborSerializable {}

  /** Store a job start; replies once it is durably stored (or why not). */
  public record StartJob(JobStart start, ActorRef<JobReply> replyTo) implements Command {}

  /** Store a job end and apply the alert rules; replies once durably stored, saying whether it was new. */
  public record FinishJob(JobEnd end, ActorRef<JobReply> replyTo) implements Command {}

  /**
   * Keep the agent's latest {@code repository.stats} once stored; no reply (the agent is not acked).
   * {@code collectedAt} is epoch millis, {@code totalUncompressedSizeBytes} null when restic did not report it.
   */
  public record RecordRepositoryStats(long collectedAt, long snapshotCount, long totalSizeBytes,
      Long totalUncompressedSizeBytes) implements Command {
    RepositoryStatsRow row() {
      return new RepositoryStatsRow(collectedAt, snapshotCount, totalSizeBytes, totalUncompressedSizeBytes);
    }
  }


  /** Sends {@code command.run} to the host's agent; {@code restore} is null for kinds other than restore. */
  public record RunJob(JobKind kind, RestoreSpec restore, ActorRef<RunJobReply> replyTo) implements Command {}

  /** Revokes the host's token, closes its connection, deletes it and stops. */
  public record Remove(ActorRef<Removed> replyTo) implements Command {}

  /** An alert was acknowledged through the API; keeps the in-memory copy current. */
  public record AlertAcknowledged(AlertRow alert) implements Command {}

  /** Replies with the host as the API shows it, or {@link NoSuchHost}. */
  public record GetHost(ActorRef<HostReply> replyTo) implements Command {}

  /** How a job event was taken; {@code recorded} is set only for a job end stored for the first time. */
  public record JobReply(UUID jobId, String of, Outcome outcome, Recorded recorded) implements CborSerializable {
    public enum Outcome { STORED, DUPLICATE, UNKNOWN_JOB, CONFLICT, FAILED }
  }

  /** A job end stored for the first time: what the job tracker of the node that received it records. */
  public record Recorded(JobKind kind, JobStatus status, double durationSeconds) implements CborSerializable {}

  public interface RunJobReply extends CborSerializable {}

  public record JobSent(UUID jobId) implements RunJobReply {}

  public enum HostOffline implements RunJobReply { INSTANCE }

  public interface HostReply extends CborSerializable {}

  /** The host is not enrolled (or was removed). */
  public enum NoSuchHost implements RunJobReply, HostReply { INSTANCE }

  public record Removed(boolean existed) implements CborSerializable {}

  /** What every entity of this node shares. {@code shard} is null outside sharding (tests). */
  public record Deps(Settings.Agents agents, Settings.Alerts alerts, HostStore hosts, JobStore jobs, AlertStore alertStore,
      ActorRef<NodeHosts.Command> view, LongSupplier clock) {}

  private enum LivenessTick implements Command { INSTANCE }

  private enum StalenessTick implements Command { INSTANCE }

  private enum Reload implements Command { INSTANCE }

  private record Loaded(Optional<StoredHost> stored, Throwable failure) implements Command {}

  private record Directories(Receptionist.Listing listing) implements Command {}

  private record StartStored(StartJob cmd, JobStore.StartOutcome outcome, Throwable failure) implements Command {}

  private record FinishStored(FinishJob cmd, JobStore.FinishOutcome outcome, Throwable failure) implements Command {}

  private record StatsStored(RepositoryStatsRow stats, Throwable failure) implements Command {}

  private record AlertsApplied(Set<AlertKind> requested, AlertStore.Applied applied, Throwable failure)
      implements Command {}

  private record HostDeleted(ActorRef<Removed> replyTo, boolean existed, Throwable failure) implements Command {}

  private record LinkTerminated(ActorRef<AgentLink> link) implements Command {}

  /** The sharded entity: loads, then runs; passivates through {@code shard} when the host does not exist. */
  public static Behavior<Command> create(String hostId, Deps deps,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(STASH,
        stash -> loading(ctx, timers, stash, hostId, deps, shard))));
  }

  private static Behavior<Command> loading(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      StashBuffer<Command> stash, String hostId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    ctx.pipeToSelf(deps.hosts().state(hostId), Loaded::new);
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, m -> {
          if (m.failure() != null) {
            ctx.getLog().warn("Could not load host [{}]; retrying: {}", hostId, m.failure().toString());
            timers.startSingleTimer(Reload.INSTANCE, RELOAD);
            return Behaviors.same();
          }
          if (m.stored().isEmpty()) return stash.unstashAll(unknown(ctx, hostId, shard));
          return stash.unstashAll(new HostEntity(ctx, timers, m.stored().get(), deps, shard));
        })
        .onMessageEquals(Reload.INSTANCE, () -> {
          ctx.pipeToSelf(deps.hosts().state(hostId), Loaded::new);
          return Behaviors.same();
        })
        .onMessageEquals(HandOff.INSTANCE, Behaviors::stopped)
        .onMessage(Command.class, m -> {
          if (stash.isFull()) {
            ctx.getLog().warn("Host [{}] is still loading and its buffer is full; refusing a message", hostId);
            refuse(m);
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .build();
  }

  /** No such host: every request is answered so, and the entity asks to be passivated. */
  private static Behavior<Command> unknown(ActorContext<Command> ctx, String hostId,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    ctx.getLog().debug("No host [{}]; passivating", hostId);
    passivate(ctx, shard);
    return Behaviors.receive(Command.class)
        .onMessageEquals(HandOff.INSTANCE, Behaviors::stopped)
        .onMessage(Command.class, m -> {
          refuse(m);
          return Behaviors.same();
        })
        .build();
  }

  /** Answers a request the entity cannot serve: unknown host, or no room while loading. */
  private static void refuse(Command m) {
    if (m instanceof StartJob s) {
      s.replyTo().tell(new JobReply(s.start().jobId(), "job.started", JobReply.Outcome.FAILED, null));
    } else if (m instanceof FinishJob f) {
      f.replyTo().tell(new JobReply(f.end().jobId(), "job.finished", JobReply.Outcome.FAILED, null));
    } else if (m instanceof RunJob r) {
      r.replyTo().tell(NoSuchHost.INSTANCE);
    } else if (m instanceof GetHost g) {
      g.replyTo().tell(NoSuchHost.INSTANCE);
    } else if (m instanceof Remove r) {
      r.replyTo().tell(new Removed(false));
    } else if (m instanceof AgentConnected c) {
      c.link().tell(AgentLink.Revoked.INSTANCE);
    }
  }

  /** Asks sharding to stop this entity (with {@link HandOff}); outside sharding, sends itself that. */
  private static void passivate(ActorContext<Command> ctx, ActorRef<ClusterSharding.ShardCommand> shard) {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    } else {
      ctx.getSelf().tell(HandOff.INSTANCE);
    }
  }

  private final TimerScheduler<Command> timers;
  private final Deps deps;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final LongSupplier clock;
  private final HostState h;
  /** When this incarnation started: a host never heard from is judged from the later of this and its enrolment. */
  private final long startedAt;
  /** Alert kinds whose raise is being stored, so a tick does not ask twice. */
  private final Set<AlertKind> pendingRaises = EnumSet.noneOf(AlertKind.class);
  private boolean removed;
  /** Writes sent to the store and not yet answered. */
  private int writes;
  /** Told to stop while writes were in flight: stops once they are answered. */
  private boolean stopping;

  private HostEntity(ActorContext<Command> ctx, TimerScheduler<Command> timers, StoredHost stored, Deps deps,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    super(ctx);
    this.timers = timers;
    this.deps = deps;
    this.shard = shard;
    this.clock = deps.clock();
    this.startedAt = clock.getAsLong();
    var r = stored.host();
    this.h = new HostState(r.id(), r.name(), r.enrolledAt(), r.lastSeenAt(), r.agentVersion(), r.resticVersion(), r.os());
    h.lastJob = stored.lastJob();
    h.lastSuccess = stored.lastSuccess();
    h.lastBackupAdded = stored.lastBackupAdded();
    h.lastSnapshot = stored.lastSnapshot();
    h.repository = stored.repositoryStats().map(HostState::repository).orElse(null);
    for (AlertRow a : stored.openAlerts()) h.openAlerts.put(a.kind(), a);
    publish();
    scheduleLiveness(startedAt);
    timers.startTimerWithFixedDelay(StalenessTick.INSTANCE, deps.alerts().checkInterval());
    ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, Directories::new);
    ctx.getSystem().receptionist().tell(Receptionist.find(AgentLink.DIRECTORY, listings));
    ctx.getLog().debug("Host [{}] loaded with [{}] open alerts", h.name, h.openAlerts.size());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Wake.INSTANCE, () -> this)
        .onMessage(Directories.class, this::onDirectories)
        .onMessage(AgentConnected.class, this::onAgentConnected)
        .onMessage(AgentDisconnected.class, m -> onGone(m.link()))
        .onMessage(LinkTerminated.class, m -> onGone(m.link()))
        .onMessage(AgentSeen.class, this::onAgentSeen)
        .onMessage(StartJob.class, this::onStartJob)
        .onMessage(StartStored.class, this::onStartStored)
        .onMessage(FinishJob.class, this::onFinishJob)
        .onMessage(FinishStored.class, this::onFinishStored)
        .onMessage(RecordRepositoryStats.class, this::onRecordRepositoryStats)
        .onMessage(StatsStored.class, this::onStatsStored)
        .onMessage(RunJob.class, this::onRunJob)
        .onMessage(Remove.class, this::onRemove)
        .onMessage(HostDeleted.class, this::onHostDeleted)
        .onMessage(AlertAcknowledged.class, this::onAlertAcknowledged)
        .onMessage(GetHost.class, this::onGetHost)
        .onMessage(AlertsApplied.class, this::onAlertsApplied)
        .onMessageEquals(LivenessTick.INSTANCE, this::onLivenessTick)
        .onMessageEquals(StalenessTick.INSTANCE, this::onStalenessTick)
        .onMessageEquals(HandOff.INSTANCE, this::onHandOff)
        .onMessage(Loaded.class, m -> this)
        .onMessageEquals(Reload.INSTANCE, () -> this)
        .onSignal(PostStop.class, s -> {
          if (!removed) deps.view().tell(new NodeHosts.Gone(h.id));
          return this;
        })
        .build();
  }

  /**
   * Stops, but not before every write this incarnation started is answered: the next incarnation, on
   * whichever node, loads the host from the store and writes through that node's writer, so a write of
   * this one still queued here could otherwise land after it (a job's end before its start).
   */
  private Behavior<Command> onHandOff() {
    if (writes == 0) return Behaviors.stopped();
    stopping = true;
    return this;
  }

  /** A write was answered; the last one lets a pending stop happen. */
  private Behavior<Command> written() {
    writes--;
    return stopping && writes == 0 ? Behaviors.stopped() : this;
  }

  private Behavior<Command> onDirectories(Directories m) {
    for (ActorRef<AgentLink.Locate> directory : m.listing().getServiceInstances(AgentLink.DIRECTORY)) {
      directory.tell(new AgentLink.Locate(h.id));
    }
    return this;
  }

  private Behavior<Command> onAgentConnected(AgentConnected m) {
    if (removed) {
      m.link().tell(AgentLink.Revoked.INSTANCE);
      return this;
    }
    if (h.connection != null && !h.connection.equals(m.link())) {
      getContext().unwatch(h.connection);
      h.connection.tell(AgentLink.Replaced.INSTANCE);
      getContext().getLog().info("Agent of host [{}] reconnected; older connection replaced", h.name);
    }
    attach(m.link());
    long now = clock.getAsLong();
    h.lastSeen = now;
    h.agentVersion = m.hello().agentVersion();
    h.resticVersion = m.hello().resticVersion();
    h.os = m.hello().os();
    changed();
    String name = h.name;
    deps.hosts().updateHello(h.id, h.agentVersion, h.resticVersion, h.os, now).whenComplete((ok, e) -> {
      if (e != null) log.warn("Could not store hello of host [{}]: {}", name, e.toString());
    });
    // A raise still being stored is resolved too: the single writer commits the resolve after it.
    if (h.openAlerts.containsKey(AlertKind.AGENT_OFFLINE) || pendingRaises.contains(AlertKind.AGENT_OFFLINE)) {
      applyAlerts(new AlertChange(List.of(), Set.of(AlertKind.AGENT_OFFLINE)), now);
    }
    return this;
  }

  private void attach(ActorRef<AgentLink> link) {
    h.connection = link;
    getContext().watchWith(link, new LinkTerminated(link));
  }

  private Behavior<Command> onGone(ActorRef<AgentLink> link) {
    if (link.equals(h.connection)) {
      getContext().unwatch(link);
      h.connection = null;
      changed();
      getContext().getLog().info("Agent of host [{}] disconnected", h.name);
    }
    return this;
  }

  private Behavior<Command> onAgentSeen(AgentSeen m) {
    if (removed) return this;
    if (h.connection == null) {
      // This entity started after the socket's hello (a hand-off): the socket is the host's connection.
      attach(m.link());
      getContext().getLog().info("Agent of host [{}] reattached", h.name);
    }
    h.lastSeen = clock.getAsLong();
    changed();
    return this;
  }

  private Behavior<Command> onStartJob(StartJob m) {
    JobStart s = m.start();
    writes++;
    getContext().pipeToSelf(deps.jobs().start(h.id, s.jobId().toString(), s.kind(), s.startedAt()),
        (outcome, failure) -> new StartStored(m, outcome, failure));
    return this;
  }

  private Behavior<Command> onStartStored(StartStored m) {
    JobReply.Outcome o;
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store job start [{}]: {}", m.cmd().start().jobId(), m.failure().toString());
      o = JobReply.Outcome.FAILED;
    } else {
      o = switch (m.outcome()) {
        case STORED -> JobReply.Outcome.STORED;
        case DUPLICATE -> JobReply.Outcome.DUPLICATE;
        case CONFLICT -> JobReply.Outcome.CONFLICT;
      };
    }
    m.cmd().replyTo().tell(new JobReply(m.cmd().start().jobId(), "job.started", o, null));
    return written();
  }

  private Behavior<Command> onFinishJob(FinishJob m) {
    JobEnd e = m.end();
    JobStore.Finish finish = new JobStore.Finish(e.jobId().toString(), e.status(), e.finishedAt(), e.exitCode(),
        e.error(), e.summaryJson(), e.dataAdded());
    String name = h.name;
    writes++;
    getContext().pipeToSelf(
        deps.jobs().finish(h.id, finish,
            kind -> AlertRules.onJobFinished(name, kind, e.status(), e.exitCode(), e.error()), clock.getAsLong()),
        (outcome, failure) -> new FinishStored(m, outcome, failure));
    return this;
  }

  private Behavior<Command> onFinishStored(FinishStored m) {
    UUID jobId = m.cmd().end().jobId();
    JobReply reply;
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store job end [{}]: {}", jobId, m.failure().toString());
      reply = new JobReply(jobId, "job.finished", JobReply.Outcome.FAILED, null);
    } else if (m.outcome() instanceof JobStore.Recorded r) {
      h.jobFinished(r.kind(), r.status(), r.finishedAt());
      // A late resend of an older backup must not replace the newest backup's figure.
      if (r.kind() == JobKind.BACKUP && r.dataAdded() != null && r.finishedAt() >= h.lastBackupAddedAt) {
        h.lastBackupAdded = r.dataAdded();
        h.lastBackupAddedAt = r.finishedAt();
      }
      applyToMemory(r.alerts());
      changed();
      reply = new JobReply(jobId, "job.finished", JobReply.Outcome.STORED,
          new Recorded(r.kind(), r.status(), r.durationSeconds()));
    } else if (m.outcome() instanceof JobStore.Duplicate) {
      reply = new JobReply(jobId, "job.finished", JobReply.Outcome.DUPLICATE, null);
    } else {
      reply = new JobReply(jobId, "job.finished", JobReply.Outcome.UNKNOWN_JOB, null);
    }
    m.cmd().replyTo().tell(reply);
    return written();
  }

  private Behavior<Command> onRecordRepositoryStats(RecordRepositoryStats m) {
    if (removed) return this;
    RepositoryStatsRow row = m.row();
    writes++;
    getContext().pipeToSelf(deps.hosts().saveRepositoryStats(h.id, row),
        (ok, failure) -> new StatsStored(row, failure));
    return this;
  }

  private Behavior<Command> onStatsStored(StatsStored m) {
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store repository statistics of host [{}]: {}", h.name,
          m.failure().toString());
    } else if (!removed) {
      h.repository = HostState.repository(m.stats());
      changed();
    }
    return written();
  }

  private Behavior<Command> onRunJob(RunJob m) {
    if (removed) {
      m.replyTo().tell(NoSuchHost.INSTANCE);
    } else if (h.connection == null) {
      m.replyTo().tell(HostOffline.INSTANCE);
    } else {
      UUID jobId = UUID.randomUUID();
      h.connection.tell(new AgentLink.RunJob(jobId, m.kind(), m.restore()));
      m.replyTo().tell(new JobSent(jobId));
    }
    return this;
  }

  private Behavior<Command> onRemove(Remove m) {
    if (removed) {
      m.replyTo().tell(new Removed(false));
      return this;
    }
    writes++;
    getContext().pipeToSelf(deps.hosts().delete(h.id),
        (existed, failure) -> new HostDeleted(m.replyTo(), Boolean.TRUE.equals(existed), failure));
    return this;
  }

  private Behavior<Command> onHostDeleted(HostDeleted m) {
    if (m.failure() != null) {
      getContext().getLog().warn("Could not delete host [{}]: {}", h.name, m.failure().toString());
      // Let the route time out into 503 rather than claim a deletion that did not happen.
      return written();
    }
    if (!removed) {
      removed = true;
      if (h.connection != null) {
        getContext().unwatch(h.connection);
        h.connection.tell(AgentLink.Revoked.INSTANCE);
        h.connection = null;
      }
      timers.cancelAll();
      deps.view().tell(new NodeHosts.Gone(h.id));
      getContext().getLog().info("Host [{}] removed; its agent token is revoked", h.name);
      passivate(getContext(), shard);
    }
    m.replyTo().tell(new Removed(true));
    return written();
  }

  private Behavior<Command> onAlertAcknowledged(AlertAcknowledged m) {
    if (m.alert().open() && h.openAlerts.containsKey(m.alert().kind())) {
      // Same kinds open, so what /metrics shows (which does not show acknowledgement) is unchanged.
      h.openAlerts.put(m.alert().kind(), m.alert());
    }
    return this;
  }

  private Behavior<Command> onGetHost(GetHost m) {
    m.replyTo().tell(removed ? NoSuchHost.INSTANCE : h.view());
    return this;
  }

  /**
   * Judges the offline deadline, then looks again when it would next pass: one timer per host, not a
   * tick per host every few seconds. Not later than the deadline as the clock now says nor than one
   * offline period (the clock may jump), and not more often than a quarter of it (at least 200 ms).
   */
  private Behavior<Command> onLivenessTick() {
    if (removed) return this;
    long now = clock.getAsLong();
    // A host never heard from is counted from the later of this entity's start and its enrolment.
    long heard = Math.max(h.lastSeen, Math.max(startedAt, h.enrolledAt));
    if (AlertRules.isOffline(now, heard, deps.agents().offlineAfter())) {
      if (h.connection != null) {
        // The connection's own deadline should have closed it; this is the backstop.
        h.connection.tell(AgentLink.Silent.INSTANCE);
        getContext().unwatch(h.connection);
        h.connection = null;
        changed();
      }
      raiseOnce(AlertKind.AGENT_OFFLINE, AlertRules.offlineMessage(h.name, deps.agents().offlineAfter()), now);
    }
    scheduleLiveness(now);
    return this;
  }

  private void scheduleLiveness(long now) {
    long offline = deps.agents().offlineAfter().toMillis();
    long heard = Math.max(h.lastSeen, Math.max(startedAt, h.enrolledAt));
    long minimum = Math.max(200, Math.min(5_000, offline / 4));
    long untilDeadline = heard + offline - now;
    timers.startSingleTimer(LivenessTick.INSTANCE,
        Duration.ofMillis(Math.max(minimum, Math.min(offline, untilDeadline))));
  }

  private Behavior<Command> onStalenessTick() {
    if (removed) return this;
    long now = clock.getAsLong();
    long base = h.lastSnapshot == 0 ? h.enrolledAt : h.lastSnapshot;
    if (AlertRules.isBackupStale(now, base, deps.alerts().backupMaxAge())) {
      raiseOnce(AlertKind.BACKUP_STALE,
          AlertRules.staleMessage(h.name, deps.alerts().backupMaxAge(), h.lastSnapshot == 0), now);
    } else if (h.openAlerts.containsKey(AlertKind.BACKUP_STALE)) {
      // Raised by a tick that ran while the resolving backup was still being stored.
      applyAlerts(new AlertChange(List.of(), Set.of(AlertKind.BACKUP_STALE)), now);
    }
    return this;
  }

  private void raiseOnce(AlertKind kind, String message, long now) {
    if (h.openAlerts.containsKey(kind) || pendingRaises.contains(kind)) return;
    pendingRaises.add(kind);
    applyAlerts(new AlertChange(List.of(new AlertChange.Raise(kind, message)), Set.of()), now);
  }

  private void applyAlerts(AlertChange change, long now) {
    Set<AlertKind> requested = new HashSet<>(change.resolve());
    change.raise().forEach(r -> requested.add(r.kind()));
    writes++;
    getContext().pipeToSelf(deps.alertStore().apply(h.id, change, now),
        (applied, failure) -> new AlertsApplied(requested, applied, failure));
  }

  private Behavior<Command> onAlertsApplied(AlertsApplied m) {
    pendingRaises.removeAll(m.requested());
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store alerts of host [{}]: {}", h.name, m.failure().toString());
      return written();
    }
    if (!removed && applyToMemory(m.applied())) changed();
    return written();
  }

  /** True when an alert was raised or resolved. */
  private boolean applyToMemory(AlertStore.Applied applied) {
    for (AlertRow r : applied.resolved()) {
      h.openAlerts.remove(r.kind());
      getContext().getLog().info("Alert [{}] of host [{}] resolved", r.kind().wire(), h.name);
    }
    for (AlertRow r : applied.raised()) {
      h.openAlerts.put(r.kind(), r);
      getContext().getLog().warn("Alert [{}] raised: {}", r.kind().wire(), r.message());
    }
    return !applied.resolved().isEmpty() || !applied.raised().isEmpty();
  }

  /** Something the node's view shows of the host changed: tell it. */
  private void changed() {
    h.changed();
    publish();
  }

  private void publish() {
    if (removed) return;
    deps.view().tell(new NodeHosts.Put(h.view(), h.sample(), Set.copyOf(h.openAlerts.keySet())));
  }
}
