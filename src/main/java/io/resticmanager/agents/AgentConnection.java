package io.resticmanager.agents;

import io.resticmanager.BuildInfo;
import io.resticmanager.config.Settings;
import io.resticmanager.fleet.Fleet;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One agent's WebSocket, already authenticated as {@code hostId}. Receives the socket's messages with
 * backpressure (the stream waits for {@link StreamAck}), decodes them with {@link WireCodec}, enforces
 * hello-first within the deadline and the inbound-silence deadline, hands job events to {@link Fleet}
 * and acks them only after Fleet reports them durably stored. Caps the job events it has in flight, so
 * a flooding agent is slowed by TCP backpressure instead of growing queues. Never touches the database.
 */
public final class AgentConnection extends AbstractBehavior<AgentConnection.Command> {

  /** Close codes of CONTRACT §4 (plus the standard ones this actor uses). */
  public static final int CLOSE_GOING_AWAY = 1001;
  public static final int CLOSE_POLICY = 1008;
  public static final int CLOSE_TOO_BIG = 1009;
  public static final int CLOSE_SERVER_ERROR = 1011;
  public static final int CLOSE_REPLACED = 4000;

  /** Job events handed to Fleet and not yet answered, beyond which the stream is not acked. */
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

  /** A newer connection of the same host took over: close with 4000. */
  public enum Replaced implements Command { INSTANCE }

  /** The host was removed and its token revoked: close with 1008. */
  public enum Revoked implements Command { INSTANCE }

  /** The server is stopping: close with 1001. */
  public enum GoingAway implements Command { INSTANCE }

  /** Fleet found the host silent past the deadline: close. */
  public enum Silent implements Command { INSTANCE }

  /** Send a frame (e.g. {@code command.run}) to the agent. */
  public record Send(Frame.FromServer frame) implements Command {}

  /** The acknowledgement the inbound stream waits for. */
  public enum StreamAck { INSTANCE }

  private record Stored(Fleet.JobReply reply) implements Command {}

  private enum HelloDeadline implements Command { INSTANCE }

  private enum SilenceDeadline implements Command { INSTANCE }

  /** After a close: if the stream has not ended by now, reset the socket and stop. */
  private enum Linger implements Command { INSTANCE }

  private final String hostId;
  private final Outbound out;
  private final ActorRef<Fleet.Command> fleet;
  private final Settings.Agents settings;
  private final TimerScheduler<Command> timers;
  private final ActorRef<Fleet.JobReply> storedAdapter;
  private final Consumer<ActorRef<Command>> onStop;
  private boolean helloReceived;
  private boolean closed;
  private int inFlight;
  private ActorRef<StreamAck> withheldAck;
  /** The latest progress report; kept, never answered (CONTRACT §4). */
  private Frame.JobProgress latestProgress;

  public static Behavior<Command> create(String hostId, Outbound out, ActorRef<Fleet.Command> fleet,
      Settings.Agents settings) {
    return create(hostId, out, fleet, settings, self -> {});
  }

  /** As above; {@code onStop} is called with the actor's own ref once it has stopped. */
  public static Behavior<Command> create(String hostId, Outbound out, ActorRef<Fleet.Command> fleet,
      Settings.Agents settings, Consumer<ActorRef<Command>> onStop) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new AgentConnection(ctx, timers, hostId, out, fleet, settings, onStop)));
  }

  private AgentConnection(ActorContext<Command> ctx, TimerScheduler<Command> timers, String hostId, Outbound out,
      ActorRef<Fleet.Command> fleet, Settings.Agents settings, Consumer<ActorRef<Command>> onStop) {
    super(ctx);
    this.hostId = hostId;
    this.out = out;
    this.fleet = fleet;
    this.settings = settings;
    this.timers = timers;
    this.onStop = onStop;
    this.storedAdapter = ctx.messageAdapter(Fleet.JobReply.class, Stored::new);
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
        .onMessage(Send.class, m -> {
          send(m.frame());
          return this;
        })
        .onMessageEquals(HelloDeadline.INSTANCE, () -> helloReceived ? this : close(CLOSE_POLICY, "no hello in time"))
        .onMessageEquals(SilenceDeadline.INSTANCE, () -> close(CLOSE_GOING_AWAY, "silent past the deadline"))
        .onMessageEquals(Silent.INSTANCE, () -> close(CLOSE_GOING_AWAY, "silent past the deadline"))
        .onMessageEquals(Replaced.INSTANCE, () -> close(CLOSE_REPLACED, "replaced by a newer connection"))
        .onMessageEquals(Revoked.INSTANCE, () -> close(CLOSE_POLICY, "host removed, token revoked"))
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

  private Behavior<Command> onInbound(Inbound m) {
    if (closed) {
      m.ackTo().tell(StreamAck.INSTANCE);
      return this;
    }
    timers.startSingleTimer(SilenceDeadline.INSTANCE, settings.offlineAfter());
    if (helloReceived) fleet.tell(new Fleet.AgentSeen(hostId));
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
    if (inFlight >= MAX_IN_FLIGHT) {
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
      inFlight++;
      fleet.tell(new Fleet.StartJob(hostId, s, storedAdapter));
    } else if (frame instanceof Frame.JobFinished f) {
      inFlight++;
      fleet.tell(new Fleet.FinishJob(hostId, f, storedAdapter));
    } else if (frame instanceof Frame.JobProgress p) {
      latestProgress = p;
    } else {
      sendError(Frame.ErrorFrame.UNKNOWN_TYPE, "\"" + frame.type() + "\" is sent by the server, not by agents",
          Optional.empty());
    }
    return this;
  }

  private Behavior<Command> onHello(Frame.Hello hello) {
    if (hello.protocolVersion() != Frame.PROTOCOL_VERSION) {
      return close(CLOSE_POLICY, "protocol version " + hello.protocolVersion() + " is not spoken here");
    }
    if (!helloReceived) {
      helloReceived = true;
      timers.cancel(HelloDeadline.INSTANCE);
    }
    fleet.tell(new Fleet.AgentConnected(hostId, hello, getContext().getSelf()));
    send(new Frame.Welcome(hostId, BuildInfo.current().version(),
        (int) Math.max(1, settings.heartbeatInterval().toSeconds())));
    return this;
  }

  private Behavior<Command> onStored(Stored m) {
    inFlight--;
    if (withheldAck != null && inFlight < MAX_IN_FLIGHT) {
      withheldAck.tell(StreamAck.INSTANCE);
      withheldAck = null;
    }
    Fleet.JobReply r = m.reply();
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
    if (helloReceived) fleet.tell(new Fleet.AgentDisconnected(hostId, getContext().getSelf()));
  }

  private Behavior<Command> onStreamEnded() {
    if (!closed) {
      closed = true;
      disconnected();
    }
    return Behaviors.stopped();
  }
}
