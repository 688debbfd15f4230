package io.resticmanager.agents;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Terminated;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameHandler;
import org.apache.pekko.http.impl.engine.ws.Protocol;
import org.apache.pekko.http.impl.engine.ws.WebSocket;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.GraphStageLogic.StageActor;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import scala.Option;
import scala.runtime.BoxedUnit;

/**
 * The message layer of one agent socket, in one stage, between Pekko HTTP's frame handling (below it:
 * unmasking, control frames, UTF-8 decoding, the close handshake) and the {@link AgentConnection} actor.
 *
 * <p>It replaces Pekko's message API ({@code WebSocket.messageAPI}) and the handler flow the server used
 * to put on it. That API makes every inbound message a substream ({@code splitAfter}, {@code
 * prefixAndTail}, a streamed {@code Message} collected by yet another materialized stream) and every
 * outbound one a {@code flatMapConcat} source: about a fifth of the server's CPU per acked job, and
 * some dozen stage logics held per idle connection. Here a message is assembled from its parts into one
 * string under the byte cap, then told to the actor, and the next frame is read only once the actor
 * acks (the same {@link AgentConnection.StreamStarted}/{@link AgentConnection.Inbound}/{@link
 * AgentConnection.StreamAck} protocol {@code ActorSink.actorRefWithBackpressure} speaks). Outbound
 * texts come from the actor through {@link Channel}, a bounded queue that wakes the stage only when it
 * may be waiting; a close the actor asks for goes out, after the queued texts, as the close code it
 * chose (1001, 1008, 1009, 1011, 4000), which Pekko's message API cannot send.
 *
 * <p>What it emits below is what {@code FrameOutHandler} takes: text frames, the frame handler's direct
 * answers (pongs), the peer's close, an active close with a code, {@code UserHandlerCompleted} and the
 * ticks that let it give up on a peer that never answers a close.
 */
final class AgentMessageStage extends GraphStage<FlowShape<FrameHandler.Output, Object>> {
  /** How often a closing socket lets {@code FrameOutHandler} check its close deadline. */
  private static final Duration TICK = Duration.ofMillis(500);
  private static final Protocol.Opcode TEXT = Protocol.Opcode$.MODULE$.forCode((byte) 1);
  /** Control frames (pongs, close answers) waiting to go out beyond which frames are not read. */
  private static final int MAX_CONTROL = 8;

  private final Inlet<FrameHandler.Output> in = Inlet.create("AgentMessageStage.in");
  private final Outlet<Object> out = Outlet.create("AgentMessageStage.out");
  private final FlowShape<FrameHandler.Output, Object> shape = FlowShape.of(in, out);
  private final ActorRef<AgentConnection.Command> actor;
  private final Channel channel;
  private final long limit;
  private final AtomicBoolean peerClosed;

  /**
   * @param limit the most UTF-8 bytes one message may have; a longer one is told as {@link
   *     InboundMessage.TooLarge} the moment it crosses the limit, and the rest of it is dropped
   * @param peerClosed set when the peer's close frame arrives
   */
  AgentMessageStage(ActorRef<AgentConnection.Command> actor, Channel channel, long limit, AtomicBoolean peerClosed) {
    this.actor = actor;
    this.channel = channel;
    this.limit = limit;
    this.peerClosed = peerClosed;
  }

  @Override
  public FlowShape<FrameHandler.Output, Object> shape() {
    return shape;
  }

  @Override
  public Attributes initialAttributes() {
    return Attributes.name("agentMessages");
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogic implements InHandler, OutHandler {
    private final ArrayDeque<Object> control = new ArrayDeque<>(2);
    private ActorRef<AgentConnection.StreamAck> ackTo;
    private boolean awaitingAck;
    private boolean actorTold;
    /** A close frame (ours, or the frame handler's protocol error, or the answer to the peer's) is on its way. */
    private boolean closing;
    private boolean ticking;
    /** Message bytes read since the close; past the cap, frames are no longer read (see maybePull). */
    private long readWhileClosing;
    private boolean inMessage;
    private boolean overLimit;
    private long seen;
    private String first;
    private StringBuilder text;

    Logic() {
      super(shape);
      setHandlers(in, out, this);
    }

    @Override
    public void preStart() {
      StageActor self = getStageActor(message -> {
        if (message._2() == AgentConnection.StreamAck.INSTANCE) onAck();
        else if (message._2() instanceof Terminated) onActorStopped();
        return BoxedUnit.UNIT;
      });
      self.watch(Adapter.toClassic(actor));
      ackTo = Adapter.toTyped(self.ref());
      AsyncCallback<BoxedUnit> wake = createAsyncCallback(unit -> {
        channel.woken();
        tryPush();
      });
      channel.attach(wake);
      awaitingAck = true;
      actor.tell(new AgentConnection.StreamStarted(ackTo));
    }

    @Override
    public void postStop() {
      channel.detach();
      tellEnded(null);
    }

    private void onAck() {
      awaitingAck = false;
      maybePull();
    }

    /**
     * The actor stops on its own only after the stream has ended or once it has reset the socket; if it
     * stops otherwise (a bug), nothing would ever ack or answer again, so the socket is closed with 1011.
     */
    private void onActorStopped() {
      actorTold = true;
      awaitingAck = false;
      if (!closing) {
        closing = true;
        startTicks();
        emitControl(new FrameHandler.ActivelyCloseWithCode(Option.apply(AgentConnection.CLOSE_SERVER_ERROR), ""));
      }
      maybePull();
    }

    /**
     * Reads the next frame unless the actor has not acked, control frames are piling up, or the socket is
     * closing and the peer has sent over a message's worth since: a peer that keeps writing instead of
     * answering the close is then left unread until the close deadline resets it.
     */
    private void maybePull() {
      if (closing && readWhileClosing > limit) return;
      if (!awaitingAck && control.size() < MAX_CONTROL && !hasBeenPulled(in) && !isClosed(in)) pull(in);
    }

    @Override
    public void onPush() {
      FrameHandler.Output e = grab(in);
      if (e instanceof FrameHandler.TextMessagePart p) {
        onPart(p.data(), utf8Length(p.data()), p.last());
      } else if (e instanceof FrameHandler.BinaryMessagePart p) {
        onPart(null, p.data().size(), p.last());
      } else if (e instanceof FrameHandler.PeerClosed) {
        peerClosed.set(true);
        tellEnded(null);
        closing = true;
        emitControl(e);
        emitControl(FrameHandler.UserHandlerCompleted$.MODULE$);
      } else if (e instanceof FrameHandler.ActivelyCloseWithCode c) {
        // A protocol violation the frame handler found (bad UTF-8, a bad opcode): it closes with its code.
        tellEnded(new ProtocolViolation(c.code().isDefined() ? (Integer) c.code().get() : 0));
        closing = true;
        startTicks();
        emitControl(e);
      } else if (e instanceof FrameHandler.DirectAnswer) {
        emitControl(e);
      }
      maybePull();
    }

    /** One part of a text ({@code data} not null) or binary message of {@code bytes} bytes. */
    private void onPart(String data, long bytes, boolean last) {
      if (!inMessage) {
        inMessage = true;
        overLimit = false;
        seen = 0;
      }
      seen += bytes;
      if (closing) readWhileClosing += bytes;
      if (!overLimit && seen > limit) {
        overLimit = true;
        first = null;
        text = null;
        deliver(new InboundMessage.TooLarge(limit));
      } else if (!overLimit && data != null) {
        if (first == null && text == null) {
          first = data;
        } else {
          if (text == null) {
            text = new StringBuilder(first);
            first = null;
          }
          text.append(data);
        }
      }
      if (!last) return;
      inMessage = false;
      if (overLimit) return;
      if (data == null) {
        deliver(new InboundMessage.Binary());
      } else {
        String whole = text == null ? first : text.toString();
        first = null;
        text = null;
        deliver(new InboundMessage.Text(whole));
      }
    }

    /** Tells the actor one message; the next frame is read on its ack. Dropped once the socket closes. */
    private void deliver(InboundMessage message) {
      if (actorTold || closing) return;
      awaitingAck = true;
      actor.tell(new AgentConnection.Inbound(message, ackTo));
    }

    private void tellEnded(Throwable failure) {
      if (actorTold) return;
      actorTold = true;
      actor.tell(failure == null
          ? AgentConnection.StreamCompleted.INSTANCE
          : new AgentConnection.StreamFailed(failure));
    }

    private void emitControl(Object e) {
      control.add(e);
      tryPush();
    }

    @Override
    public void onPull() {
      tryPush();
    }

    /** Sends, in this order: control frames, the actor's queued texts, then the close it asked for. */
    private void tryPush() {
      if (!isAvailable(out)) return;
      Object next = control.poll();
      if (next != null) {
        push(out, next);
        maybePull();
        return;
      }
      if (closing) return;
      String queued = channel.poll();
      if (queued != null) {
        push(out, textFrame(queued));
      } else if (channel.closeCode() != 0) {
        closing = true;
        startTicks();
        push(out, new FrameHandler.ActivelyCloseWithCode(Option.apply(channel.closeCode()), ""));
      }
    }

    private void startTicks() {
      if (ticking) return;
      ticking = true;
      scheduleAtFixedRate("tick", TICK, TICK);
    }

    @Override
    public void onTimer(Object key) {
      if (isAvailable(out) && control.isEmpty()) push(out, WebSocket.Tick$.MODULE$);
    }

    @Override
    public void onUpstreamFinish() {
      tellEnded(null);
      completeStage();
    }

    @Override
    public void onUpstreamFailure(Throwable ex) {
      // A ProtocolException from below (an unmasked frame, say) must reach FrameOutHandler, which then
      // closes with 1002.
      tellEnded(ex);
      failStage(ex);
    }

    @Override
    public void onDownstreamFinish(Throwable cause) {
      tellEnded(null);
      cancelStage(cause);
    }
  }

  /** The UTF-8 length of {@code s}, without encoding it. */
  static long utf8Length(String s) {
    long n = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) n += c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1;
    }
    return n;
  }

  private static Object textFrame(String text) {
    return FrameEvent$.MODULE$.fullFrame(TEXT, Option.empty(),
        ByteString.fromString(text, StandardCharsets.UTF_8), true, false, false, false);
  }

  /** The frame handler closed the socket over a protocol violation. Expected, so without a stack trace. */
  private static final class ProtocolViolation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolViolation(int code) {
      super("WebSocket protocol violation, closed with " + code, null, false, false);
    }
  }

  /**
   * The sending side of one socket as its actor sees it ({@link Outbound}): a queue of at most {@code
   * capacity} texts. It exists before the stage runs (the actor is started first), so offers and a close
   * made before then wait in it. The stage is woken through an async callback only when it may be
   * waiting, so a burst of sends costs one wake-up.
   */
  static final class Channel implements Outbound {
    private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final int capacity;
    private final Runnable abort;
    private volatile AsyncCallback<BoxedUnit> wake;
    private volatile int closeCode;
    private volatile boolean ended;

    /** @param abort resets the socket at once ({@link Outbound#abort}) */
    Channel(int capacity, Runnable abort) {
      this.capacity = capacity;
      this.abort = abort;
    }

    /**
     * Queues a text. False when {@code capacity} texts are already waiting (the agent is not reading);
     * true, and the text dropped, once the socket has ended: its actor hears of that separately.
     */
    @Override
    public boolean offer(String text) {
      if (ended || closeCode != 0) return true;
      if (size.incrementAndGet() > capacity) {
        size.decrementAndGet();
        return false;
      }
      queue.add(text);
      signal();
      return true;
    }

    @Override
    public void close(int code) {
      if (closeCode != 0) return;
      closeCode = code;
      signal();
    }

    @Override
    public void abort() {
      abort.run();
    }

    private void signal() {
      AsyncCallback<BoxedUnit> w = wake;
      if (w != null && !ended && wakePending.compareAndSet(false, true)) w.invoke(BoxedUnit.UNIT);
    }

    void attach(AsyncCallback<BoxedUnit> callback) {
      wake = callback;
    }

    /** The stage took the wake-up: it polls now, so texts offered from here on must wake it again. */
    void woken() {
      wakePending.set(false);
    }

    void detach() {
      ended = true;
    }

    String poll() {
      String text = queue.poll();
      if (text != null) size.decrementAndGet();
      return text;
    }

    int closeCode() {
      return closeCode;
    }
  }
}
