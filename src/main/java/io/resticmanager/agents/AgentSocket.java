package io.resticmanager.agents;

import io.resticmanager.config.Settings;
import io.resticmanager.fleet.Fleet;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.impl.engine.ws.WebSocket$;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.util.ByteString;
import scala.Option;

/**
 * Wires one accepted agent WebSocket to a new {@link AgentConnection} actor: inbound messages are
 * collected (strict or streamed alike, streamed ones always drained) under a byte cap and delivered
 * with backpressure; outbound frames go through a bounded queue. Tracks every live connection so that a
 * stopping server closes each with 1001 and waits (briefly) for them to end, hello or not.
 *
 * <p>Pekko HTTP's message-level API can only close a socket with 1000 or 1011, while the protocol needs
 * 1008, 1009 and 4000. So this class builds the same frame stack Pekko builds for
 * {@code handleMessages} ({@code WebSocket.stack}, Pekko HTTP internal API, pinned by the one Pekko HTTP
 * version in the pom) and rewrites the normal-closure frame it emits into the code the actor chose.
 */
public final class AgentSocket {
  private static final int OUTBOUND_BUFFER = 512;
  private static final int CLOSE_NORMAL = 1000;
  private static final byte OPCODE_CLOSE = 8;

  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final ActorRef<Fleet.Command> fleet;
  private final Settings.Agents settings;
  private final LoggingAdapter log;
  private final org.apache.pekko.http.scaladsl.settings.WebSocketSettings websocketSettings;
  private final AtomicInteger connections = new AtomicInteger();
  /** Every connection actor not yet stopped, helloed or not (Fleet knows only the helloed ones). */
  private final Set<ActorRef<AgentConnection.Command>> live = ConcurrentHashMap.newKeySet();
  /** Set once the server stops: completes when the last connection actor has stopped. */
  private volatile CompletableFuture<Done> drained;

  public AgentSocket(ActorSystem<?> system, ActorRef<Fleet.Command> fleet, Settings.Agents settings) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.fleet = fleet;
    this.settings = settings;
    this.log = Logging.getLogger(system.classicSystem(), AgentSocket.class);
    this.websocketSettings = (org.apache.pekko.http.scaladsl.settings.WebSocketSettings)
        ServerSettings.create(system.classicSystem()).getWebsocketSettings();
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

  private void stopped(ActorRef<AgentConnection.Command> connection) {
    live.remove(connection);
    CompletableFuture<Done> d = drained;
    if (d != null && live.isEmpty()) d.complete(Done.getInstance());
  }

  /** Accepts the upgrade for an authenticated host and starts its connection actor. */
  public HttpResponse accept(WebSocketUpgrade upgrade, String hostId) {
    AtomicInteger closeCode = new AtomicInteger(CLOSE_NORMAL);
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> outbound =
        Source.<Message>queue(OUTBOUND_BUFFER).preMaterialize(materializer);
    BoundedSourceQueue<Message> queue = outbound.first();
    // Cuts the socket's whole frame stream, so that the TCP connection is reset at once. Closing through
    // the handler cannot end a socket whose peer does not read: the close frame waits behind the frames
    // the peer never takes, and only pekko.http.server.idle-timeout would end it.
    SharedKillSwitch cut = KillSwitches.shared("agent-" + hostId);
    Outbound out = new Outbound() {
      @Override
      public boolean offer(String text) {
        try {
          return queue.offer(TextMessage.create(text)) == org.apache.pekko.stream.QueueOfferResult.enqueued();
        } catch (IllegalStateException completed) {
          // The queue was completed (socket closing): the frame cannot be sent any more.
          return false;
        }
      }

      @Override
      public void close(int code) {
        closeCode.set(code);
        try {
          queue.complete();
        } catch (IllegalStateException alreadyEnded) {
          // The socket's stream ended first (peer gone, or cut off over the size cap): nothing to close.
        }
      }

      @Override
      public void abort() {
        cut.abort(new Aborted());
      }
    };
    ActorRef<AgentConnection.Command> actor = system.systemActorOf(
        AgentConnection.create(hostId, out, fleet, settings, this::stopped),
        "agent-" + hostId + "-" + connections.incrementAndGet(), Props.empty());
    live.add(actor);
    if (drained != null) actor.tell(AgentConnection.GoingAway.INSTANCE);

    Sink<InboundMessage, NotUsed> toActor = ActorSink.actorRefWithBackpressure(
        actor,
        (ackTo, message) -> new AgentConnection.Inbound(message, ackTo),
        AgentConnection.StreamStarted::new,
        AgentConnection.StreamAck.INSTANCE,
        AgentConnection.StreamCompleted.INSTANCE,
        AgentConnection.StreamFailed::new);
    long limit = settings.maxFrameBytes();
    // Cutting a streamed message off can end the whole inbound stream (and with it, through the coupling
    // below, the handler) before the actor hears of it, so the close code is chosen the moment the cap is
    // crossed.
    Runnable overLimit = () -> closeCode.compareAndSet(CLOSE_NORMAL, AgentConnection.CLOSE_TOO_BIG);
    Sink<Message, NotUsed> inbound = Flow.<Message>create()
        .mapAsync(1, m -> collect(m, limit, overLimit))
        .to(toActor);
    Flow<Message, Message, NotUsed> handler = Flow.fromSinkAndSourceCoupled(inbound, outbound.second());

    Flow<org.apache.pekko.http.scaladsl.model.ws.Message, org.apache.pekko.http.scaladsl.model.ws.Message, NotUsed>
        scalaHandler = Flow.<org.apache.pekko.http.scaladsl.model.ws.Message>create()
            .map(m -> (Message) m)
            .via(handler)
            .map(Message::asScala);
    BidiFlow<FrameEvent, org.apache.pekko.http.scaladsl.model.ws.Message,
        org.apache.pekko.http.scaladsl.model.ws.Message, FrameEvent, NotUsed> stack =
        BidiFlow.fromGraph(WebSocket$.MODULE$.stack(true, websocketSettings, WebSocket$.MODULE$.stack$default$3(), log));
    // Pekko ends the socket 3 s after its close frame even when the peer never answered it. Ending it
    // normally makes the TCP layer first flush what is still unsent, which never happens when the peer
    // has stopped reading: the connection then outlives the stream (and http.max-connections) forever.
    // So a close the peer did not answer ends in a reset instead.
    AtomicBoolean peerClosed = new AtomicBoolean();
    Flow<FrameEvent, FrameEvent, NotUsed> frames = Flow.<FrameEvent>create()
        .map(f -> {
          if (isClose(f)) peerClosed.set(true);
          return f;
        })
        .via(stack.join(scalaHandler))
        .map(f -> rewriteClose(f, closeCode.get()))
        .concatLazy(Source.lazySource(() -> peerClosed.get() ? Source.<FrameEvent>empty() : Source.<FrameEvent>failed(new Aborted())))
        .via(cut.flow());
    @SuppressWarnings("unchecked")
    Graph<FlowShape<FrameEvent, FrameEvent>, Object> graph = (Graph<FlowShape<FrameEvent, FrameEvent>, Object>) (Graph<?, ?>) frames;
    return ((UpgradeToWebSocketLowLevel) upgrade).handleFrames(graph, Option.empty());
  }

  /** Why a socket was reset on purpose: expected, so without a stack trace. */
  private static final class Aborted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Aborted() {
      super("agent socket aborted", null, false, false);
    }
  }

  private static boolean isClose(FrameEvent f) {
    return f instanceof FrameStart start && start.header().opcode().code() == OPCODE_CLOSE;
  }

  /** Replaces the close frame Pekko sends on a completed handler (1000) with the chosen code. */
  static FrameEvent rewriteClose(FrameEvent f, int code) {
    if (code == CLOSE_NORMAL || !isClose(f)) return f;
    FrameStart start = (FrameStart) f;
    byte[] data = start.data().toArray();
    if (data.length < 2 || ((data[0] & 0xFF) << 8 | (data[1] & 0xFF)) != CLOSE_NORMAL) return f;
    return FrameEvent$.MODULE$.closeFrame(code, "", Option.empty());
  }

  /**
   * One whole message, strict or streamed, never more than {@code limit} UTF-8 bytes held. A streamed
   * message over the limit is cut off by completing its stream early, never by failing it: a failed
   * message stream fails the whole WebSocket stack, which then closes with 1011 and logs an ERROR instead
   * of letting the actor close with 1009. What is left of the cut message is discarded by Pekko.
   */
  private CompletionStage<InboundMessage> collect(Message m, long limit, Runnable overLimit) {
    AtomicLong seen = new AtomicLong();
    if (!m.isText()) {
      // Binary is not part of the protocol, but the 1 MiB cap (close 1009) holds for every frame.
      BinaryMessage b = m.asBinaryMessage();
      if (b.isStrict()) {
        return CompletableFuture.completedFuture(
            b.getStrictData().size() > limit ? new InboundMessage.TooLarge(limit) : new InboundMessage.Binary());
      }
      return b.getStreamedData()
          .takeWhile((ByteString bytes) -> within(seen.addAndGet(bytes.size()), limit, overLimit))
          .runWith(Sink.ignore(), materializer)
          .thenApply(done -> seen.get() > limit ? new InboundMessage.TooLarge(limit) : new InboundMessage.Binary());
    }
    TextMessage t = m.asTextMessage();
    if (t.isStrict()) {
      String s = t.getStrictText();
      return CompletableFuture.completedFuture(
          utf8Length(s) > limit ? new InboundMessage.TooLarge(limit) : new InboundMessage.Text(s));
    }
    return t.getStreamedText()
        .takeWhile(chunk -> within(seen.addAndGet(utf8Length(chunk)), limit, overLimit))
        .runFold(new StringBuilder(), StringBuilder::append, materializer)
        .thenApply(sb -> seen.get() > limit ? new InboundMessage.TooLarge(limit) : new InboundMessage.Text(sb.toString()));
  }

  private static boolean within(long seen, long limit, Runnable overLimit) {
    if (seen <= limit) return true;
    overLimit.run();
    return false;
  }

  static long utf8Length(String s) {
    long n = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) n += c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1;
    }
    return n;
  }
}
