package io.resticmanager.agents;

import io.resticmanager.config.Settings;
import io.resticmanager.fleet.AgentLink;
import io.resticmanager.fleet.Fleet;
import io.resticmanager.jobs.JobTracker;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameHandler;
import org.apache.pekko.http.impl.engine.ws.FrameLogger$;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.impl.engine.ws.WebSocket$;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.settings.WebSocketSettings;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import scala.Option;

/**
 * Wires one accepted agent WebSocket to a new {@link AgentConnection} actor through an {@link
 * AgentMessageStage}: inbound messages are assembled under a byte cap and delivered with backpressure;
 * outbound texts go through a bounded queue. Tracks every live connection so that a stopping server
 * closes each with 1001 and waits (briefly) for them to end, hello or not. Node-local: keeps this node's
 * directory of helloed sockets by host ({@link AgentLink#DIRECTORY}), which a host's entity that starts
 * anywhere in the cluster asks to have its socket say hello again, and counts them for
 * {@code restic_manager_agents_connected}.
 *
 * <p>Pekko HTTP's message-level API can only close a socket with 1000 or 1011, while the protocol needs
 * 1008, 1009 and 4000; and it costs a substream per message. So this class takes the frame-level
 * upgrade and composes the layers below Pekko's message API itself ({@code WebSocket.stack} without
 * {@code messageAPI}; Pekko HTTP internal API, pinned by the one Pekko HTTP version in the pom), with
 * {@link AgentMessageStage} on top.
 */
public final class AgentSocket {
  private static final int OUTBOUND_BUFFER = 512;

  private final ActorSystem<?> system;
  private final Fleet fleet;
  private final ActorRef<JobTracker.Command> jobTracker;
  private final Settings.Agents settings;
  private final BidiFlow<FrameEvent, FrameHandler.Output, Object, FrameEvent, NotUsed> protocol;
  private final AtomicInteger connections = new AtomicInteger();
  /** Every connection actor not yet stopped, helloed or not (entities know only the helloed ones). */
  private final Set<ActorRef<AgentConnection.Command>> live = ConcurrentHashMap.newKeySet();
  /** The newest helloed connection of each host on this node. */
  private final Map<String, ActorRef<AgentConnection.Command>> helloed = new ConcurrentHashMap<>();
  /** Set once the server stops: completes when the last connection actor has stopped. */
  private volatile CompletableFuture<Done> drained;

  public AgentSocket(ActorSystem<?> system, Fleet fleet, ActorRef<JobTracker.Command> jobTracker,
      Settings.Agents settings) {
    this.system = system;
    this.fleet = fleet;
    this.jobTracker = jobTracker;
    this.settings = settings;
    system.systemActorOf(directory(), "agent-sockets", Props.empty());
    this.protocol = protocol(
        (WebSocketSettings) ServerSettings.create(system.classicSystem()).getWebsocketSettings(),
        Logging.getLogger(system.classicSystem(), AgentSocket.class));
  }

  /**
   * Closes every open agent socket, helloed or not, with 1001 (going away) and completes when their
   * actors have stopped (each stops once its socket stream has ended), or after {@code timeout}. Called
   * by the shutdown sequence before HTTP connections are drained: {@code binding.terminate} leaves
   * upgraded sockets alone, which would otherwise be cut without a close frame.
   */
  public CompletionStage<Done> drain(Duration timeout) {
    CompletableFuture<Done> d = new CompletableFuture<>();
    drained = d;
    live.forEach(c -> c.tell(AgentConnection.GoingAway.INSTANCE));
    if (live.isEmpty()) d.complete(Done.getInstance());
    return d.completeOnTimeout(Done.getInstance(), timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Helloed agent sockets open on this node. */
  public int connected() {
    return helloed.size();
  }

  /** Answers {@link AgentLink.Locate}: the host's socket here, if any, says hello to the entity again. */
  private Behavior<AgentLink.Locate> directory() {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(AgentLink.DIRECTORY, ctx.getSelf()));
      return Behaviors.receiveMessage(m -> {
        ActorRef<AgentConnection.Command> c = helloed.get(m.hostId());
        if (c != null) c.tell(AgentConnection.Reattach.INSTANCE);
        return Behaviors.same();
      });
    });
  }

  private void stopped(String hostId, ActorRef<AgentConnection.Command> connection) {
    helloed.remove(hostId, connection);
    live.remove(connection);
    CompletableFuture<Done> d = drained;
    if (d != null && live.isEmpty()) d.complete(Done.getInstance());
  }

  /** Accepts the upgrade for an authenticated host and starts its connection actor. */
  public HttpResponse accept(WebSocketUpgrade upgrade, String hostId) {
    // Cuts the socket's whole frame stream, so that the TCP connection is reset at once. Closing through
    // the handler cannot end a socket whose peer does not read: the close frame waits behind the frames
    // the peer never takes, and only pekko.http.server.idle-timeout would end it.
    SharedKillSwitch cut = KillSwitches.shared("agent-" + hostId);
    AgentMessageStage.Channel channel = new AgentMessageStage.Channel(OUTBOUND_BUFFER, () -> cut.abort(new Aborted()));
    ActorRef<AgentConnection.Command> actor = system.systemActorOf(
        AgentConnection.create(hostId, channel, new AgentConnection.Peers(fleet.host(hostId), jobTracker), settings,
            c -> helloed.put(hostId, c), c -> stopped(hostId, c)),
        "agent-" + hostId + "-" + connections.incrementAndGet(), Props.empty());
    live.add(actor);
    if (drained != null) actor.tell(AgentConnection.GoingAway.INSTANCE);

    // Pekko ends the socket 3 s after its close frame even when the peer never answered it. Ending it
    // normally makes the TCP layer first flush what is still unsent, which never happens when the peer
    // has stopped reading: the connection then outlives the stream (and http.max-connections) forever.
    // So a close the peer did not answer ends in a reset instead.
    AtomicBoolean peerClosed = new AtomicBoolean();
    Flow<FrameEvent, FrameEvent, NotUsed> frames = protocol
        .join(Flow.fromGraph(new AgentMessageStage(actor, channel, settings.maxFrameBytes(), peerClosed)))
        .concatLazy(Source.lazySource(() -> peerClosed.get() ? Source.<FrameEvent>empty() : Source.<FrameEvent>failed(new Aborted())))
        .via(cut.flow());
    @SuppressWarnings("unchecked")
    Graph<FlowShape<FrameEvent, FrameEvent>, Object> graph = (Graph<FlowShape<FrameEvent, FrameEvent>, Object>) (Graph<?, ?>) frames;
    return ((UpgradeToWebSocketLowLevel) upgrade).handleFrames(graph, Option.empty());
  }

  /**
   * Pekko HTTP's WebSocket layers below the message API, as {@code WebSocket.stack} composes them for a
   * server: unmasking, frame logging (when configured), frame handling (control frames, UTF-8, the close
   * handshake) and the periodic keep-alive (when configured). Immutable, shared by every connection.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static BidiFlow<FrameEvent, FrameHandler.Output, Object, FrameEvent, NotUsed> protocol(
      WebSocketSettings settings, LoggingAdapter log) {
    WebSocket$ ws = WebSocket$.MODULE$;
    BidiFlow masking = BidiFlow.fromGraph(ws.masking(true, settings.randomFactory()));
    BidiFlow logging = BidiFlow.fromGraph(FrameLogger$.MODULE$.logFramesIfEnabled(settings.logFrames()));
    BidiFlow handling = BidiFlow.fromGraph(ws.frameHandling(true, ws.stack$default$3(), log));
    BidiFlow keepAlive = BidiFlow.fromGraph(ws.periodicKeepAlive(settings));
    return masking.atop(logging).atop(handling).atop(keepAlive);
  }

  /** Why a socket was reset on purpose: expected, so without a stack trace. */
  private static final class Aborted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Aborted() {
      super("agent socket aborted", null, false, false);
    }
  }
}
