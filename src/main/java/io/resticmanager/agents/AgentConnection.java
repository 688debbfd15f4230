package io.resticmanager.agents;

import io.resticmanager.BuildInfo;
import io.resticmanager.config.Settings;
import io.resticmanager.fleet.AgentLink;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.fleet.HostEntity.JobReply;
import io.resticmanager.jobs.JobTracker;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Node-local: one agent's WebSocket, already authenticated as {@code hostId}. Receives the socket's
 * messages with backpressure (the stream waits for {@link StreamAck}), decodes them with {@link WireCodec},
 * enforces hello-first within the deadline and the inbound-silence deadline, hands job events and
 * repository statistics to the host's {@link HostEntity} (through sharding, on whichever node it runs) and
 * acks job events only after the entity reports them durably stored (statistics are never answered); a
 * job end stored for the first time is told to this node's {@link JobTracker}, so each job is counted
 * once, on the node whose socket received it. An entity that
 * does not answer within {@code agents.store-timeout} (its node was lost, it is moving) closes the socket
 * with 1011 so the agent resends. Caps the job events it has in flight, so a flooding agent is slowed by
 * TCP backpressure instead of growing queues. Reached by the entity through {@link AgentLink} (a message
 * adapter). Never touches the database.
 */
public final class AgentConnection extends AbstractBehavior<AgentConnection.Command> {

  /** Close codes of CONTRACT §4 (plus the standard ones this actor uses). */
  public static final int CLOSE_GOING_AWAY = 1001;
  public static final int CLOSE_POLICY = 1008;
  public static final int CLOSE_TOO_BIG = 1009;
  public static final int CLOSE_SERVER_ERROR = 1011;
  public static final int CLOSE_REPLACED = 4000;

  /** Job events handed to the entity and not yet answered, beyond which the stream is not acked. */
  static final int MAX_IN_FLIGHT = 64;

  public sealed interface Command {}

  /** The stream is ready; ack to get the first message. */
  public record StreamStarted(ActorRef<StreamAck> ackTo) implements Command {}

  /** One inbound message; the stream sends the next one after {@code ackTo} gets {@link StreamAck}. */
  public record Inbound(InboundMessage message, ActorRef<StreamAck> ackTo) implements Command {}

  /** The agent closed the socket or the stream ended. */
  public enum StreamCompleted implements Command { INSTANCE }

  /** The inbound stream failed (connection reset and the like). */
  public record StreamFailed(Throwable cause) implements Command {}

  /** The server is stopping: close with 1001. */
  public enum GoingAway implements Command { INSTANCE }

  /** The host's entity (re)started without knowing this socket: say hello to it again (if helloed). */
  public enum Reattach implements Command { INSTANCE }

  /** The acknowledgement the inbound stream waits for. */
  public enum StreamAck { INSTANCE }

  private record Stored(JobReply reply) implements Command {}

  /** The oldest job event handed to the entity may have waited past {@code agents.store-timeout}. */
  private enum StoreDeadline implements Command { INSTANCE }

  /** What the host's entity says, through {@link #link}. */
  private record FromEntity(AgentLink message) implements Command {}

  private enum HelloDeadline implements Command { INSTANCE }

  private enum SilenceDeadline implements Command { INSTANCE }

  /** After a close: if the stream has not ended by now, reset the socket and stop. */
  private enum Linger implements Command { INSTANCE }

  private static final Pattern NOT_ALNUM = Pattern.compile("[^0-9A-Za-z]");

  /** Who this connection talks to: the host's entity and the node's job tracker. */
  public record Peers(RecipientRef<HostEntity.Command> entity, ActorRef<JobTracker.Command> jobTracker) {}

  private final String hostId;
  private final Outbound out;
  private final Peers peers;
  private final Settings.Agents settings;
  private final TimerScheduler<Command> timers;
  private final ActorRef<AgentLink> link;
  private final Consumer<ActorRef<Command>> onHello;
  private final Consumer<ActorRef<Command>> onStop;
  private HostEntity.AgentHello hello;
  private boolean helloReceived;
  private boolean closed;
  /** The entity's answers to job events, through one adapter (not an ask per event, which costs a future). */
  private final ActorRef<JobReply> storedAdapter;
  /**
   * Job events handed to the entity and not yet answered ("of job_id"), oldest first: when the first of
   * them was handed over (nanos) and how many copies (an agent may send one event twice). A reply takes
   * one copy; the oldest event still here past the store timeout closes the socket.
   */
  private final LinkedHashMap<String, Waiting> inFlight = new LinkedHashMap<>();
  /** Copies of job events handed to the entity and not yet answered, beyond which the stream is not acked. */
  private int unanswered;
  private ActorRef<StreamAck> withheldAck;
  /** The latest progress report; kept, never answered (CONTRACT §4). */
  private Frame.JobProgress latestProgress;

  /**
   * {@code onHello} is called with the actor's own ref at its first hello, {@code onStop} once it has
   * stopped (the node's socket directory keeps the helloed ones).
   */
  public static Behavior<Command> create(String hostId, Outbound out, Peers peers, Settings.Agents settings,
      Consumer<ActorRef<Command>> onHello, Consumer<ActorRef<Command>> onStop) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new AgentConnection(ctx, timers, hostId, out, peers, settings, onHello, onStop)));
  }

  private AgentConnection(ActorContext<Command> ctx, TimerScheduler<Command> timers, String hostId, Outbound out,
      Peers peers, Settings.Agents settings, Consumer<ActorRef<Command>> onHello,
      Consumer<ActorRef<Command>> onStop) {
    super(ctx);
    this.hostId = hostId;
    this.out = out;
    this.peers = peers;
    this.settings = settings;
    this.timers = timers;
    this.onHello = onHello;
    this.onStop = onStop;
    this.link = ctx.messageAdapter(AgentLink.class, FromEntity::new);
    this.storedAdapter = ctx.messageAdapter(JobReply.class, Stored::new);
    timers.startSingleTimer(HelloDeadline.INSTANCE, settings.helloTimeout());
    timers.startSingleTimer(SilenceDeadline.INSTANCE, settings.offlineAfter());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(StreamStarted.class, m -> {
          m.ackTo().tell(StreamAck.INSTANCE);
          return this;
        })
        .onMessage(Inbound.class, this::onInbound)
        .onMessage(Stored.class, this::onStored)
        .onMessageEquals(StoreDeadline.INSTANCE, this::onStoreDeadline)
        .onMessage(FromEntity.class, m -> onFromEntity(m.message()))
        .onMessageEquals(Reattach.INSTANCE, this::onReattach)
        .onMessageEquals(HelloDeadline.INSTANCE, () -> helloReceived ? this : close(CLOSE_POLICY, "no hello in time"))
        .onMessageEquals(SilenceDeadline.INSTANCE, () -> close(CLOSE_GOING_AWAY, "silent past the deadline"))
        .onMessageEquals(GoingAway.INSTANCE, () -> close(CLOSE_GOING_AWAY, "server stopping"))
        .onMessageEquals(StreamCompleted.INSTANCE, this::onStreamEnded)
        .onMessageEquals(Linger.INSTANCE, this::onLinger)
        .onMessage(StreamFailed.class, m -> onStreamEnded())
        .onSignal(PostStop.class, signal -> {
          onStop.accept(getContext().getSelf());
          return this;
        })
        .build();
  }

  /**
   * The host's entity started again (after a hand-off, or on another node when its node was lost): say
   * hello to it, and hand it again the job events still waiting for an answer, which the last incarnation
   * may never have answered. Storing is idempotent, so a copy the old one did store is only acked again.
   */
  private Behavior<Command> onReattach() {
    if (!helloReceived || closed) return this;
    peers.entity().tell(new HostEntity.AgentConnected(hello, link));
    long now = System.nanoTime();
    for (Waiting w : inFlight.values()) {
      w.since = now;
      peers.entity().tell(w.request);
    }
    if (!inFlight.isEmpty()) timers.startSingleTimer(StoreDeadline.INSTANCE, settings.storeTimeout());
    return this;
  }

  private Behavior<Command> onFromEntity(AgentLink m) {
    if (m instanceof AgentLink.RunJob r) {
      send(new Frame.CommandRun(r.jobId(), r.kind(), Optional.ofNullable(r.restore())));
      return this;
    }
    if (m == AgentLink.Replaced.INSTANCE) return close(CLOSE_REPLACED, "replaced by a newer connection");
    if (m == AgentLink.Revoked.INSTANCE) return close(CLOSE_POLICY, "host removed, token revoked");
    return close(CLOSE_GOING_AWAY, "silent past the deadline");
  }

  private Behavior<Command> onInbound(Inbound m) {
    if (closed) {
      m.ackTo().tell(StreamAck.INSTANCE);
      return this;
    }
    timers.startSingleTimer(SilenceDeadline.INSTANCE, settings.offlineAfter());
    if (helloReceived) peers.entity().tell(new HostEntity.AgentSeen(link));
    InboundMessage msg = m.message();
    if (msg instanceof InboundMessage.TooLarge t) {
      m.ackTo().tell(StreamAck.INSTANCE);
      return close(CLOSE_TOO_BIG, "frame over " + t.limitBytes() + " bytes");
    }
    if (msg instanceof InboundMessage.Binary) {
      sendError(Frame.ErrorFrame.BAD_JSON, "binary frames are not part of the protocol; send JSON text",
          Optional.empty());
    } else if (msg instanceof InboundMessage.Text t) {
      Behavior<Command> next = onText(t.text());
      if (next != this) {
        m.ackTo().tell(StreamAck.INSTANCE);
        return next;
      }
    }
    if (unanswered >= MAX_IN_FLIGHT) {
      withheldAck = m.ackTo();
    } else {
      m.ackTo().tell(StreamAck.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onText(String text) {
    WireCodec.Decoded decoded = WireCodec.decode(text);
    if (decoded instanceof WireCodec.Decoded.Bad bad) {
      send(bad.toErrorFrame());
      return this;
    }
    Frame frame = ((WireCodec.Decoded.Ok) decoded).frame();
    if (frame instanceof Frame.Hello hello) return onHello(hello);
    if (!helloReceived) {
      sendError(Frame.ErrorFrame.HELLO_REQUIRED, "the first frame must be hello", Optional.empty());
      return this;
    }
    if (frame instanceof Frame.Heartbeat) {
      return this;
    } else if (frame instanceof Frame.JobStarted s) {
      store(s.jobId(), Frame.JobStarted.TYPE, r -> new HostEntity.StartJob(
          new HostEntity.JobStart(s.jobId(), s.kind(), s.startedAt().toEpochMilli()), r));
    } else if (frame instanceof Frame.JobFinished f) {
      store(f.jobId(), Frame.JobFinished.TYPE, r -> new HostEntity.FinishJob(end(f), r));
    } else if (frame instanceof Frame.JobProgress p) {
      latestProgress = p;
    } else if (frame instanceof Frame.RepositoryStats r) {
      // Kept by the entity once stored; never answered, so an agent's resend after welcome is harmless.
      OptionalLong uncompressed = r.totalUncompressedSizeBytes();
      peers.entity().tell(new HostEntity.RecordRepositoryStats(r.collectedAt().toEpochMilli(), r.snapshotCount(),
          r.totalSizeBytes(), uncompressed.isPresent() ? uncompressed.getAsLong() : null));
    } else {
      sendError(Frame.ErrorFrame.UNKNOWN_TYPE, "\"" + frame.type() + "\" is sent by the server, not by agents",
          Optional.empty());
    }
    return this;
  }

  /** Hands a job event to the entity; no answer within the store timeout counts as not stored. */
  private void store(UUID jobId, String of, Function<ActorRef<JobReply>, HostEntity.Command> request) {
    if (inFlight.isEmpty()) timers.startSingleTimer(StoreDeadline.INSTANCE, settings.storeTimeout());
    HostEntity.Command command = request.apply(storedAdapter);
    inFlight.computeIfAbsent(of + " " + jobId, k -> new Waiting(System.nanoTime(), command)).copies++;
    unanswered++;
    peers.entity().tell(command);
  }

  /**
   * The oldest unanswered event has waited past the store timeout (its entity's node was lost, or the
   * entity is moving): it is not stored as far as anyone here knows, so the socket closes with 1011 and
   * the agent resends. Otherwise looks again when the oldest one would be due.
   */
  private Behavior<Command> onStoreDeadline() {
    if (inFlight.isEmpty() || closed) return this;
    long waited = System.nanoTime() - inFlight.values().iterator().next().since;
    long timeout = settings.storeTimeout().toNanos();
    if (waited >= timeout) return close(CLOSE_SERVER_ERROR, "no answer from the host's entity in time");
    timers.startSingleTimer(StoreDeadline.INSTANCE, Duration.ofNanos(timeout - waited));
    return this;
  }

  /** A job event waiting for its answer. */
  private static final class Waiting {
    long since;
    final HostEntity.Command request;
    int copies;
    /** The job's end, answered as unknown before this start was answered: handed over again once it is. */
    HostEntity.Command then;

    Waiting(long since, HostEntity.Command request) {
      this.since = since;
      this.request = request;
    }
  }

  private static HostEntity.JobEnd end(Frame.JobFinished f) {
    return new HostEntity.JobEnd(f.jobId(), f.status(), f.finishedAt().toEpochMilli(), f.exitCode(),
        f.error().orElse(null), f.summary().map(AgentConnection::summaryJson).orElse(null),
        f.summary().map(Frame.BackupSummary::dataAdded).orElse(null));
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

  private Behavior<Command> onHello(Frame.Hello hello) {
    if (hello.protocolVersion() != Frame.PROTOCOL_VERSION) {
      return close(CLOSE_POLICY, "protocol version " + hello.protocolVersion() + " is not spoken here");
    }
    this.hello = new HostEntity.AgentHello(hello.agentVersion(), hello.resticVersion(), hello.os());
    if (!helloReceived) {
      helloReceived = true;
      timers.cancel(HelloDeadline.INSTANCE);
      onHello.accept(getContext().getSelf());
    }
    peers.entity().tell(new HostEntity.AgentConnected(this.hello, link));
    send(new Frame.Welcome(hostId, BuildInfo.current().version(),
        (int) Math.max(1, settings.heartbeatInterval().toSeconds())));
    return this;
  }

  private Behavior<Command> onStored(Stored m) {
    JobReply r = m.reply();
    String key = r.of() + " " + r.jobId();
    Waiting w = inFlight.get(key);
    if (w == null) return this; // answered after the socket closed for want of it
    String startKey = Frame.JobStarted.TYPE + " " + r.jobId();
    if (r.outcome() == JobReply.Outcome.UNKNOWN_JOB && r.of().equals(Frame.JobFinished.TYPE)
        && inFlight.containsKey(startKey)) {
      // The start this agent sent first has not been answered: it went to an incarnation of the entity that
      // stopped (a hand-off) while the end reached the next one. Not an agent's error: the end waits for
      // the start's answer and is handed over again then (or with every unanswered event on Reattach).
      inFlight.get(startKey).then = w.request;
      return this;
    }
    if (w.then != null && r.outcome() != JobReply.Outcome.FAILED) {
      peers.entity().tell(w.then);
      w.then = null;
    }
    if (--w.copies == 0) inFlight.remove(key);
    unanswered--;
    if (inFlight.isEmpty()) timers.cancel(StoreDeadline.INSTANCE);
    if (withheldAck != null && unanswered < MAX_IN_FLIGHT) {
      withheldAck.tell(StreamAck.INSTANCE);
      withheldAck = null;
    }
    if (r.recorded() != null) {
      HostEntity.Recorded rec = r.recorded();
      peers.jobTracker().tell(new JobTracker.RecordJobFinished(
          rec.kind(), rec.status(), Duration.ofMillis(Math.round(rec.durationSeconds() * 1000))));
    }
    switch (r.outcome()) {
      case STORED, DUPLICATE -> send(new Frame.Ack(r.of(), r.jobId()));
      case UNKNOWN_JOB -> sendError(Frame.ErrorFrame.UNKNOWN_JOB,
          "no started job " + r.jobId() + " of this host; send job.started first", Optional.of(r.jobId()));
      case CONFLICT -> sendError(Frame.ErrorFrame.INVALID_FIELD,
          "invalid field \"job_id\": already used by another host's job", Optional.of(r.jobId()));
      case FAILED -> {
        // Not stored and not acked: closing makes the agent reconnect and resend from its outbox.
        return close(CLOSE_SERVER_ERROR, "could not store " + r.of());
      }
    }
    return this;
  }

  private void sendError(String code, String message, Optional<UUID> jobId) {
    send(new Frame.ErrorFrame(code, message, jobId));
  }

  private void send(Frame.FromServer frame) {
    if (closed) return;
    if (!out.offer(WireCodec.encode(frame))) {
      getContext().getLog().warn("Agent of host [{}] is not reading; dropping its connection", hostId);
      closed = true;
      out.abort();
      disconnected();
      timers.startSingleTimer(Linger.INSTANCE, Duration.ofSeconds(10));
    }
  }

  private Behavior<Command> close(int code, String why) {
    if (closed) return this;
    getContext().getLog().info("Closing agent connection of host [{}] with [{}]: {}", hostId, code, why);
    closed = true;
    out.close(code);
    disconnected();
    timers.startSingleTimer(Linger.INSTANCE, Duration.ofSeconds(10));
    return this;
  }

  /**
   * The socket has not ended within the linger time of a close: the peer is not reading, so the close frame
   * is stuck behind unread frames. Reset the connection instead of leaving it to the HTTP idle timeout.
   */
  private Behavior<Command> onLinger() {
    out.abort();
    return Behaviors.stopped();
  }

  private void disconnected() {
    timers.cancel(HelloDeadline.INSTANCE);
    timers.cancel(SilenceDeadline.INSTANCE);
    if (helloReceived) peers.entity().tell(new HostEntity.AgentDisconnected(link));
  }

  private Behavior<Command> onStreamEnded() {
    if (!closed) {
      closed = true;
      disconnected();
    }
    return Behaviors.stopped();
  }
}
