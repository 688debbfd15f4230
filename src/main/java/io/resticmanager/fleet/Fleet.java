package io.resticmanager.fleet;

import io.resticmanager.agents.AgentConnection;
import io.resticmanager.agents.Frame;
import io.resticmanager.config.Settings;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.HostRows;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.store.AlertChange;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.Database;
import io.resticmanager.store.HostRow;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host/alert actor: owns every enrolled host's live state (online, last seen, versions, last job
 * and last success per kind, last backup's added bytes, open alerts) and the agent connection of each.
 * Loaded from the store at start; every change is persisted through the store before it is believed,
 * and the alert rules of CONTRACT §6 are applied here: on a finished job (in the job's own
 * transaction), on the offline deadline and on the periodic staleness check. Tells {@link JobTracker}
 * of each newly stored job end exactly once. Talked to by {@code AgentConnection}s and the routes; never
 * blocks: JDBC futures come back through {@code pipeToSelf}.
 */
public final class Fleet extends AbstractBehavior<Fleet.Command> {
  private static final Logger log = LoggerFactory.getLogger(Fleet.class);
  private static final Pattern NOT_ALNUM = Pattern.compile("[^0-9A-Za-z]");

  public sealed interface Command {}

  /** An agent said hello on {@code connection}; a previous connection of the host is replaced. */
  public record AgentConnected(String hostId, Frame.Hello hello, ActorRef<AgentConnection.Command> connection)
      implements Command {}

  /** The connection is gone. */
  public record AgentDisconnected(String hostId, ActorRef<AgentConnection.Command> connection) implements Command {}

  /** A frame arrived from the host's agent. */
  public record AgentSeen(String hostId) implements Command {}

  /** Store a job start; replies once it is durably stored (or why not). */
  public record StartJob(String hostId, Frame.JobStarted frame, ActorRef<JobReply> replyTo) implements Command {}

  /** Store a job end, record its duration once, apply the alert rules; replies once durably stored. */
  public record FinishJob(String hostId, Frame.JobFinished frame, ActorRef<JobReply> replyTo) implements Command {}

  /** A host was enrolled by the enrollment route. */
  public record HostEnrolled(HostRow host) implements Command {}

  /** Replies with every host. */
  public record GetHosts(ActorRef<HostList> replyTo) implements Command {}

  /** Revokes the host's token, closes its connection and forgets it (its metric rows vanish). */
  public record RemoveHost(String hostId, ActorRef<Removed> replyTo) implements Command {}

  /** Sends {@code command.run} to the host's agent. */
  public record RunJob(String hostId, JobKind kind, ActorRef<RunJobReply> replyTo) implements Command {}

  /** An alert was acknowledged through the API; keeps the in-memory copy current. */
  public record AlertAcknowledged(AlertRow alert) implements Command {}

  /** Replies with what {@code /metrics} shows of the fleet. */
  public record GetSample(ActorRef<FleetSample> replyTo) implements Command {}

  /** Shutdown: persists pending last-seen times; replies after the commit. */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  /** How a job event was taken. */
  public record JobReply(UUID jobId, String of, Outcome outcome) {
    public enum Outcome { STORED, DUPLICATE, UNKNOWN_JOB, CONFLICT, FAILED }
  }

  /** A host as the API shows it. Times are epoch millis; {@code lastSeenAt} 0 means never. */
  public record HostView(String id, String name, boolean online, long lastSeenAt, String agentVersion,
      String resticVersion, String os, long enrolledAt) {}

  public record HostList(List<HostView> hosts) {}

  public record Removed(boolean existed) {}

  public sealed interface RunJobReply {}

  public record JobSent(UUID jobId) implements RunJobReply {}

  public record HostOffline() implements RunJobReply {}

  public record NoSuchHost() implements RunJobReply {}

  private enum LivenessTick implements Command { INSTANCE }

  private enum StalenessTick implements Command { INSTANCE }

  private enum FlushTick implements Command { INSTANCE }

  /** Render the rows of the hosts changed since the last rendering (sent to self once per batch of changes). */
  private enum RenderRows implements Command { INSTANCE }

  private record StartStored(StartJob cmd, JobStore.StartOutcome outcome, Throwable failure) implements Command {}

  private record FinishStored(FinishJob cmd, JobStore.FinishOutcome outcome, Throwable failure)
      implements Command {}

  private record AlertsApplied(String hostId, Set<AlertKind> requested, AlertStore.Applied applied, Throwable failure)
      implements Command {}

  private record HostDeleted(String hostId, ActorRef<Removed> replyTo, boolean existed, Throwable failure)
      implements Command {}

  private record Flushed(Map<String, Long> saved, ActorRef<Done> replyTo, Throwable failure) implements Command {}

  private record ConnectionTerminated(String hostId, ActorRef<AgentConnection.Command> connection)
      implements Command {}

  /** What the fleet starts from, read from the store before the actor system starts. */
  public record Initial(List<HostRow> hosts, JobStore.Latest latest, List<AlertRow> openAlerts) {
    /** Blocking; call at start-up. */
    public static Initial load(Database db) {
      return db.readNow(c -> new Initial(HostStore.loadAll(c), JobStore.loadLatest(c), AlertStore.loadOpen(c)));
    }
  }

  /** The stores the fleet writes through. */
  public record Stores(HostStore hosts, JobStore jobs, AlertStore alerts) {}

  private final Settings.Agents agentSettings;
  private final Settings.Alerts alertSettings;
  private final Stores stores;
  private final ActorRef<JobTracker.Command> jobTracker;
  private final LongSupplier clock;
  private final long startedAt;
  private final Map<String, HostState> hosts = new HashMap<>();
  /** Host id + alert kind raises in flight, so a tick does not ask twice. */
  private final Set<String> pendingRaises = new HashSet<>();
  /** What {@code /metrics} shows of the fleet; null after any change to it (see {@link #changed}). */
  private FleetSample sample;
  /**
   * Every host's rows of {@code /metrics}, kept rendered. Hosts changed since are in {@link #unrendered}
   * and are rendered by a {@link RenderRows} the fleet sends itself when the first of them changes: after
   * the change is complete, and spread over time rather than all at the next scrape.
   */
  private final HostRows rows = new HostRows();
  private final Set<HostState> unrendered = new HashSet<>();

  public static Behavior<Command> create(Settings.Agents agents, Settings.Alerts alerts, Stores stores,
      ActorRef<JobTracker.Command> jobTracker, Initial initial, LongSupplier clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new Fleet(ctx, timers, agents, alerts, stores, jobTracker, initial, clock)));
  }

  private Fleet(ActorContext<Command> ctx, TimerScheduler<Command> timers, Settings.Agents agentSettings,
      Settings.Alerts alertSettings, Stores stores, ActorRef<JobTracker.Command> jobTracker, Initial initial,
      LongSupplier clock) {
    super(ctx);
    this.agentSettings = agentSettings;
    this.alertSettings = alertSettings;
    this.stores = stores;
    this.jobTracker = jobTracker;
    this.clock = clock;
    this.startedAt = clock.getAsLong();
    for (HostRow h : initial.hosts()) {
      HostState s = new HostState(h.id(), h.name(), h.enrolledAt(), h.lastSeenAt(), h.agentVersion(),
          h.resticVersion(), h.os());
      s.lastJob = Map.copyOf(initial.latest().lastJob().getOrDefault(h.id(), Map.of()));
      s.lastSuccess = Map.copyOf(initial.latest().lastSuccess().getOrDefault(h.id(), Map.of()));
      s.lastBackupAdded = initial.latest().lastBackupAdded().getOrDefault(h.id(), -1L);
      hosts.put(h.id(), s);
    }
    for (AlertRow a : initial.openAlerts()) {
      HostState s = hosts.get(a.hostId());
      if (s != null) s.openAlerts.put(a.kind(), a);
    }
    hosts.values().forEach(this::unrendered);
    long livenessMillis = Math.max(200, Math.min(5_000, agentSettings.offlineAfter().toMillis() / 4));
    timers.startTimerWithFixedDelay(LivenessTick.INSTANCE, Duration.ofMillis(livenessMillis));
    timers.startTimerWithFixedDelay(StalenessTick.INSTANCE, alertSettings.checkInterval());
    timers.startTimerWithFixedDelay(FlushTick.INSTANCE, Duration.ofSeconds(15));
    ctx.getLog().info("Fleet loaded [{}] hosts and [{}] open alerts", hosts.size(), initial.openAlerts().size());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(AgentConnected.class, this::onAgentConnected)
        .onMessage(AgentDisconnected.class, m -> onGone(m.hostId(), m.connection()))
        .onMessage(ConnectionTerminated.class, m -> onGone(m.hostId(), m.connection()))
        .onMessage(AgentSeen.class, this::onAgentSeen)
        .onMessage(StartJob.class, this::onStartJob)
        .onMessage(StartStored.class, this::onStartStored)
        .onMessage(FinishJob.class, this::onFinishJob)
        .onMessage(FinishStored.class, this::onFinishStored)
        .onMessage(HostEnrolled.class, this::onHostEnrolled)
        .onMessage(GetHosts.class, this::onGetHosts)
        .onMessage(RemoveHost.class, this::onRemoveHost)
        .onMessage(HostDeleted.class, this::onHostDeleted)
        .onMessage(RunJob.class, this::onRunJob)
        .onMessage(AlertAcknowledged.class, this::onAlertAcknowledged)
        .onMessage(GetSample.class, this::onGetSample)
        .onMessage(AlertsApplied.class, this::onAlertsApplied)
        .onMessageEquals(LivenessTick.INSTANCE, this::onLivenessTick)
        .onMessageEquals(RenderRows.INSTANCE, () -> {
          renderRows();
          return this;
        })
        .onMessageEquals(StalenessTick.INSTANCE, this::onStalenessTick)
        .onMessageEquals(FlushTick.INSTANCE, () -> flush(null))
        .onMessage(Flush.class, m -> flush(m.replyTo()))
        .onMessage(Flushed.class, this::onFlushed)
        .build();
  }

  private Behavior<Command> onAgentConnected(AgentConnected m) {
    HostState h = hosts.get(m.hostId());
    if (h == null) {
      m.connection().tell(AgentConnection.Revoked.INSTANCE);
      return this;
    }
    if (h.connection != null && !h.connection.equals(m.connection())) {
      getContext().unwatch(h.connection);
      h.connection.tell(AgentConnection.Replaced.INSTANCE);
      getContext().getLog().info("Agent of host [{}] reconnected; older connection replaced", h.name);
    }
    h.connection = m.connection();
    getContext().watchWith(m.connection(), new ConnectionTerminated(h.id, m.connection()));
    long now = clock.getAsLong();
    h.lastSeen = now;
    h.lastSeenDirty = false;
    h.agentVersion = m.hello().agentVersion();
    h.resticVersion = m.hello().resticVersion();
    h.os = m.hello().os();
    changed(h);
    String name = h.name;
    stores.hosts().updateHello(h.id, h.agentVersion, h.resticVersion, h.os, now).whenComplete((ok, e) -> {
      if (e != null) log.warn("Could not store hello of host [{}]: {}", name, e.toString());
    });
    // A raise still being stored is resolved too: the single writer commits the resolve after it.
    if (h.openAlerts.containsKey(AlertKind.AGENT_OFFLINE) || pendingRaises.contains(h.id + AlertKind.AGENT_OFFLINE)) {
      applyAlerts(h.id, new AlertChange(List.of(), Set.of(AlertKind.AGENT_OFFLINE)), now);
    }
    return this;
  }

  private Behavior<Command> onGone(String hostId, ActorRef<AgentConnection.Command> connection) {
    HostState h = hosts.get(hostId);
    if (h != null && connection.equals(h.connection)) {
      getContext().unwatch(connection);
      h.connection = null;
      changed(h);
      getContext().getLog().info("Agent of host [{}] disconnected", h.name);
    }
    return this;
  }

  private Behavior<Command> onAgentSeen(AgentSeen m) {
    HostState h = hosts.get(m.hostId());
    if (h != null) {
      h.lastSeen = clock.getAsLong();
      h.lastSeenDirty = true;
      changed(h);
    }
    return this;
  }

  private Behavior<Command> onStartJob(StartJob m) {
    if (!hosts.containsKey(m.hostId())) {
      m.replyTo().tell(new JobReply(m.frame().jobId(), Frame.JobStarted.TYPE, JobReply.Outcome.FAILED));
      return this;
    }
    Frame.JobStarted f = m.frame();
    getContext().pipeToSelf(
        stores.jobs().start(m.hostId(), f.jobId().toString(), f.kind(), f.startedAt().toEpochMilli()),
        (outcome, failure) -> new StartStored(m, outcome, failure));
    return this;
  }

  private Behavior<Command> onStartStored(StartStored m) {
    JobReply.Outcome o;
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store job start [{}]: {}", m.cmd().frame().jobId(), m.failure().toString());
      o = JobReply.Outcome.FAILED;
    } else {
      o = switch (m.outcome()) {
        case STORED -> JobReply.Outcome.STORED;
        case DUPLICATE -> JobReply.Outcome.DUPLICATE;
        case CONFLICT -> JobReply.Outcome.CONFLICT;
      };
    }
    m.cmd().replyTo().tell(new JobReply(m.cmd().frame().jobId(), Frame.JobStarted.TYPE, o));
    return this;
  }

  private Behavior<Command> onFinishJob(FinishJob m) {
    HostState h = hosts.get(m.hostId());
    if (h == null) {
      m.replyTo().tell(new JobReply(m.frame().jobId(), Frame.JobFinished.TYPE, JobReply.Outcome.FAILED));
      return this;
    }
    Frame.JobFinished f = m.frame();
    String error = f.error().orElse(null);
    Long added = f.summary().map(Frame.BackupSummary::dataAdded).orElse(null);
    JobStore.Finish finish = new JobStore.Finish(f.jobId().toString(), f.status(), f.finishedAt().toEpochMilli(),
        f.exitCode(), error, f.summary().map(Fleet::summaryJson).orElse(null), added);
    String name = h.name;
    getContext().pipeToSelf(
        stores.jobs().finish(h.id, finish,
            kind -> AlertRules.onJobFinished(name, kind, f.status(), f.exitCode(), error), clock.getAsLong()),
        (outcome, failure) -> new FinishStored(m, outcome, failure));
    return this;
  }

  private Behavior<Command> onFinishStored(FinishStored m) {
    UUID jobId = m.cmd().frame().jobId();
    JobReply.Outcome o;
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store job end [{}]: {}", jobId, m.failure().toString());
      o = JobReply.Outcome.FAILED;
    } else if (m.outcome() instanceof JobStore.Recorded r) {
      HostState h = hosts.get(m.cmd().hostId());
      if (h != null) {
        h.jobFinished(r.kind(), r.status() == JobStatus.SUCCEEDED, r.finishedAt());
        // A late resend of an older backup must not replace the newest backup's figure.
        if (r.kind() == JobKind.BACKUP && r.dataAdded() != null && r.finishedAt() >= h.lastBackupAddedAt) {
          h.lastBackupAdded = r.dataAdded();
          h.lastBackupAddedAt = r.finishedAt();
        }
        changed(h);
        applyToMemory(h, r.alerts());
      }
      jobTracker.tell(new JobTracker.RecordJobFinished(
          r.kind(), r.status(), Duration.ofMillis(Math.round(r.durationSeconds() * 1000))));
      o = JobReply.Outcome.STORED;
    } else if (m.outcome() instanceof JobStore.Duplicate) {
      o = JobReply.Outcome.DUPLICATE;
    } else {
      o = JobReply.Outcome.UNKNOWN_JOB;
    }
    m.cmd().replyTo().tell(new JobReply(jobId, Frame.JobFinished.TYPE, o));
    return this;
  }

  private Behavior<Command> onHostEnrolled(HostEnrolled m) {
    HostRow r = m.host();
    if (hosts.putIfAbsent(r.id(), new HostState(r.id(), r.name(), r.enrolledAt(), r.lastSeenAt(), r.agentVersion(),
        r.resticVersion(), r.os())) == null) {
      unrendered(hosts.get(r.id()));
      sample = null;
    }
    return this;
  }

  private Behavior<Command> onGetHosts(GetHosts m) {
    List<HostView> out = new ArrayList<>(hosts.size());
    for (HostState h : hosts.values()) {
      out.add(new HostView(h.id, h.name, h.online(), h.lastSeen, h.agentVersion, h.resticVersion, h.os, h.enrolledAt));
    }
    out.sort(Comparator.comparing(HostView::name));
    m.replyTo().tell(new HostList(List.copyOf(out)));
    return this;
  }

  private Behavior<Command> onRemoveHost(RemoveHost m) {
    if (!hosts.containsKey(m.hostId())) {
      m.replyTo().tell(new Removed(false));
      return this;
    }
    getContext().pipeToSelf(stores.hosts().delete(m.hostId()),
        (existed, failure) -> new HostDeleted(m.hostId(), m.replyTo(), Boolean.TRUE.equals(existed), failure));
    return this;
  }

  private Behavior<Command> onHostDeleted(HostDeleted m) {
    if (m.failure() != null) {
      getContext().getLog().warn("Could not delete host [{}]: {}", m.hostId(), m.failure().toString());
      // Let the route time out into 503 rather than claim a deletion that did not happen.
      return this;
    }
    HostState h = hosts.remove(m.hostId());
    if (h != null) {
      unrendered.remove(h);
      rows.remove(h.name);
      sample = null;
      if (h.connection != null) {
        getContext().unwatch(h.connection);
        h.connection.tell(AgentConnection.Revoked.INSTANCE);
      }
      getContext().getLog().info("Host [{}] removed; its agent token is revoked", h.name);
    }
    m.replyTo().tell(new Removed(h != null || m.existed()));
    return this;
  }

  private Behavior<Command> onRunJob(RunJob m) {
    HostState h = hosts.get(m.hostId());
    if (h == null) {
      m.replyTo().tell(new NoSuchHost());
    } else if (h.connection == null) {
      m.replyTo().tell(new HostOffline());
    } else {
      UUID jobId = UUID.randomUUID();
      h.connection.tell(new AgentConnection.Send(new Frame.CommandRun(jobId, m.kind())));
      m.replyTo().tell(new JobSent(jobId));
    }
    return this;
  }

  private Behavior<Command> onAlertAcknowledged(AlertAcknowledged m) {
    HostState h = hosts.get(m.alert().hostId());
    if (h != null && m.alert().open() && h.openAlerts.containsKey(m.alert().kind())) {
      // Same kinds open, so the sample (which does not show acknowledgement) is unchanged.
      h.openAlerts.put(m.alert().kind(), m.alert());
    }
    return this;
  }

  /**
   * The same sample for every scrape until something in it changes; rebuilt, it reuses unchanged hosts'
   * samples and rows, and renders the rows of hosts changed since the last {@link RenderRows}.
   */
  private Behavior<Command> onGetSample(GetSample m) {
    if (sample == null) {
      renderRows();
      HostSample[] out = new HostSample[hosts.size()];
      Map<AlertKind, Integer> byKind = new EnumMap<>(AlertKind.class);
      int connected = 0;
      int i = 0;
      for (HostState h : hosts.values()) {
        if (h.online()) connected++;
        for (AlertKind k : h.openAlerts.keySet()) byKind.merge(k, 1, Integer::sum);
        out[i++] = h.sample();
      }
      // List.of copies the array once into an immutable list, which FleetSample then keeps as it is.
      sample = new FleetSample(List.of(out), connected, byKind, rows.render());
    }
    m.replyTo().tell(sample);
    return this;
  }

  private Behavior<Command> onLivenessTick() {
    long now = clock.getAsLong();
    for (HostState h : hosts.values()) {
      // A host never heard from is counted from the later of the server's start and its enrolment.
      long heard = Math.max(h.lastSeen, Math.max(startedAt, h.enrolledAt));
      if (!AlertRules.isOffline(now, heard, agentSettings.offlineAfter())) continue;
      if (h.connection != null) {
        // The connection's own deadline should have closed it; this is the backstop.
        h.connection.tell(AgentConnection.Silent.INSTANCE);
        getContext().unwatch(h.connection);
        h.connection = null;
        changed(h);
      }
      raiseOnce(h, AlertKind.AGENT_OFFLINE, AlertRules.offlineMessage(h.name, agentSettings.offlineAfter()), now);
    }
    return this;
  }

  private Behavior<Command> onStalenessTick() {
    long now = clock.getAsLong();
    for (HostState h : hosts.values()) {
      Long success = h.lastSuccess.get(JobKind.BACKUP);
      long base = success == null ? h.enrolledAt : success;
      if (AlertRules.isBackupStale(now, base, alertSettings.backupMaxAge())) {
        raiseOnce(h, AlertKind.BACKUP_STALE,
            AlertRules.staleMessage(h.name, alertSettings.backupMaxAge(), success == null), now);
      } else if (h.openAlerts.containsKey(AlertKind.BACKUP_STALE)) {
        // Raised by a tick that ran while the resolving backup was still being stored.
        applyAlerts(h.id, new AlertChange(List.of(), Set.of(AlertKind.BACKUP_STALE)), now);
      }
    }
    return this;
  }

  private void raiseOnce(HostState h, AlertKind kind, String message, long now) {
    if (h.openAlerts.containsKey(kind) || pendingRaises.contains(h.id + kind)) return;
    pendingRaises.add(h.id + kind);
    applyAlerts(h.id, new AlertChange(List.of(new AlertChange.Raise(kind, message)), Set.of()), now);
  }

  private void applyAlerts(String hostId, AlertChange change, long now) {
    Set<AlertKind> requested = new HashSet<>(change.resolve());
    change.raise().forEach(r -> requested.add(r.kind()));
    getContext().pipeToSelf(stores.alerts().apply(hostId, change, now),
        (applied, failure) -> new AlertsApplied(hostId, requested, applied, failure));
  }

  private Behavior<Command> onAlertsApplied(AlertsApplied m) {
    m.requested().forEach(k -> pendingRaises.remove(m.hostId() + k));
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store alerts of host [{}]: {}", m.hostId(), m.failure().toString());
      return this;
    }
    HostState h = hosts.get(m.hostId());
    if (h != null) applyToMemory(h, m.applied());
    return this;
  }

  private void applyToMemory(HostState h, AlertStore.Applied applied) {
    if (!applied.resolved().isEmpty() || !applied.raised().isEmpty()) changed(h);
    for (AlertRow r : applied.resolved()) {
      h.openAlerts.remove(r.kind());
      getContext().getLog().info("Alert [{}] of host [{}] resolved", r.kind().wire(), h.name);
    }
    for (AlertRow r : applied.raised()) {
      h.openAlerts.put(r.kind(), r);
      getContext().getLog().warn("Alert [{}] raised: {}", r.kind().wire(), r.message());
    }
  }

  /** {@code h} changed something its sample shows: its sample and the fleet's are built anew when next asked. */
  private void changed(HostState h) {
    h.changed();
    unrendered(h);
    sample = null;
  }

  private void unrendered(HostState h) {
    if (unrendered.add(h) && unrendered.size() == 1) getContext().getSelf().tell(RenderRows.INSTANCE);
  }

  /** Renders the rows of the hosts changed since the last time, in name order (so that new hosts are appended). */
  private void renderRows() {
    if (unrendered.isEmpty()) return;
    List<HostState> changedHosts = new ArrayList<>(unrendered);
    changedHosts.sort(Comparator.comparing((HostState h) -> h.name));
    for (HostState h : changedHosts) rows.put(h.sample());
    unrendered.clear();
  }

  private Behavior<Command> flush(ActorRef<Done> replyTo) {
    Map<String, Long> dirty = new HashMap<>();
    for (HostState h : hosts.values()) {
      if (h.lastSeenDirty) dirty.put(h.id, h.lastSeen);
    }
    if (dirty.isEmpty()) {
      if (replyTo != null) replyTo.tell(Done.getInstance());
      return this;
    }
    getContext().pipeToSelf(stores.hosts().saveLastSeen(dirty), (ok, failure) -> new Flushed(dirty, replyTo, failure));
    return this;
  }

  private Behavior<Command> onFlushed(Flushed m) {
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store last-seen times: {}", m.failure().toString());
    } else {
      for (Map.Entry<String, Long> e : m.saved().entrySet()) {
        HostState h = hosts.get(e.getKey());
        if (h != null && h.lastSeen == e.getValue()) h.lastSeenDirty = false;
      }
    }
    if (m.replyTo() != null) m.replyTo().tell(Done.getInstance());
    return this;
  }

  /** The summary as stored and returned by the jobs API, in restic's own field names. */
  static String summaryJson(Frame.BackupSummary s) {
    return "{\"files_new\":" + s.filesNew() + ",\"files_changed\":" + s.filesChanged()
        + ",\"files_unmodified\":" + s.filesUnmodified() + ",\"data_added\":" + s.dataAdded()
        + ",\"total_files_processed\":" + s.totalFilesProcessed() + ",\"total_bytes_processed\":"
        + s.totalBytesProcessed() + ",\"total_duration\":" + jsonNumber(s.totalDuration())
        + ",\"snapshot_id\":\"" + NOT_ALNUM.matcher(s.snapshotId()).replaceAll("") + "\"}";
  }

  private static String jsonNumber(double d) {
    return Double.isFinite(d) ? Double.toString(d) : "0";
  }
}
