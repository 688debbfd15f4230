package io.resticmanager.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.http.impl.engine.ws.FrameHandler;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.WebSocket;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import scala.Option;

/**
 * {@link AgentMessageStage} between a test publisher standing in for Pekko's frame handler and a test
 * subscriber standing in for {@code FrameOutHandler}, with a probe as the connection actor. The socket
 * as a whole (real frames, close codes on the wire) is covered by AgentChannelIT and HostileFramesIT.
 */
class AgentMessageStageTest {
  private static final ActorTestKit kit = ActorTestKit.create();
  private static final long LIMIT = 16;

  private TestProbe<AgentConnection.Command> actor;
  private AgentMessageStage.Channel channel;
  private AtomicInteger aborts;
  private AtomicBoolean peerClosed;
  private TestPublisher.Probe<FrameHandler.Output> below;
  private TestSubscriber.Probe<Object> out;

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    actor = kit.createTestProbe();
    aborts = new AtomicInteger();
    channel = new AgentMessageStage.Channel(3, aborts::incrementAndGet);
    peerClosed = new AtomicBoolean();
    Pair<TestPublisher.Probe<FrameHandler.Output>, TestSubscriber.Probe<Object>> probes =
        TestSource.<FrameHandler.Output>probe(kit.system().classicSystem())
            .via(Flow.fromGraph(new AgentMessageStage(actor.ref(), channel, LIMIT, peerClosed)))
            .toMat(TestSink.probe(kit.system().classicSystem()), org.apache.pekko.stream.javadsl.Keep.both())
            .run(Materializer.matFromSystem(kit.system()));
    below = probes.first();
    out = probes.second();
  }

  private AgentConnection.StreamStarted started() {
    return actor.expectMessageClass(AgentConnection.StreamStarted.class);
  }

  private AgentConnection.Inbound inbound() {
    return actor.expectMessageClass(AgentConnection.Inbound.class);
  }

  private static FrameHandler.TextMessagePart text(String s, boolean last) {
    return new FrameHandler.TextMessagePart(s, last);
  }

  @Test
  void aFragmentedTextIsToldWholeAndTheNextFrameIsReadOnlyAfterTheAck() {
    started().ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    below.expectRequest();
    below.sendNext(text("{\"a\":", false));
    below.sendNext(text("1}", true));
    AgentConnection.Inbound first = inbound();
    assertEquals(new InboundMessage.Text("{\"a\":1}"), first.message());

    below.sendNext(text("next", true));
    actor.expectNoMessage(Duration.ofMillis(200));
    first.ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    assertEquals(new InboundMessage.Text("next"), inbound().message());
  }

  @Test
  void aMessageOverTheCapIsToldAsTooLargeOnceAndTheRestOfItIsDropped() {
    started().ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    below.sendNext(text("x".repeat(10), false));
    below.sendNext(text("é".repeat(4), false)); // 10 + 8 UTF-8 bytes: over 16
    AgentConnection.Inbound tooLarge = inbound();
    assertEquals(new InboundMessage.TooLarge(LIMIT), tooLarge.message());
    tooLarge.ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    below.sendNext(text("y".repeat(100), true));
    below.sendNext(text("ok", true));
    assertEquals(new InboundMessage.Text("ok"), inbound().message(), "the cut message's tail is not told");
  }

  @Test
  void binaryIsToldAsBinaryWithoutItsBytes() {
    started().ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    below.sendNext(new FrameHandler.BinaryMessagePart(ByteString.fromString("abc"), true));
    assertEquals(new InboundMessage.Binary(), inbound().message());
  }

  @Test
  void queuedTextsGoOutBeforeTheCloseCodeTheActorChose() {
    started();
    assertTrue(channel.offer("one"));
    assertTrue(channel.offer("two"));
    channel.close(1009);
    out.request(3);
    assertEquals("one", textOf(out.expectNext()));
    assertEquals("two", textOf(out.expectNext()));
    Object close = out.expectNext();
    assertInstanceOf(FrameHandler.ActivelyCloseWithCode.class, close);
    assertEquals(Option.apply(1009), ((FrameHandler.ActivelyCloseWithCode) close).code());
    assertTrue(channel.offer("after the close"), "dropped, not refused: the actor is not told the agent is slow");
    out.request(1);
    assertEquals(WebSocket.Tick$.MODULE$, out.expectNext(Duration.ofSeconds(2)), "ticks let the close time out");
  }

  @Test
  void theQueueRefusesTextsBeyondItsCapacityUntilTheyAreSent() {
    started();
    assertTrue(channel.offer("1"));
    assertTrue(channel.offer("2"));
    assertTrue(channel.offer("3"));
    assertFalse(channel.offer("4"), "full: the agent is not reading");
    out.request(1);
    assertEquals("1", textOf(out.expectNext()));
    assertTrue(channel.offer("4"));
    out.request(3);
    assertEquals("2", textOf(out.expectNext()));
    assertEquals("3", textOf(out.expectNext()));
    assertEquals("4", textOf(out.expectNext()));
  }

  @Test
  void thePeersCloseEndsTheActorsStreamAndIsAnsweredAfterTheHandlerCompletes() {
    started().ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    FrameHandler.PeerClosed close = new FrameHandler.PeerClosed(Option.apply(1000), "");
    below.sendNext(close);
    actor.expectMessage(AgentConnection.StreamCompleted.INSTANCE);
    assertTrue(peerClosed.get());
    out.request(2);
    assertEquals(close, out.expectNext());
    assertEquals(FrameHandler.UserHandlerCompleted$.MODULE$, out.expectNext());
  }

  @Test
  void pongsAndProtocolErrorsFromBelowPassThroughAndAProtocolErrorEndsTheActorsStream() {
    started().ackTo().tell(AgentConnection.StreamAck.INSTANCE);
    FrameHandler.DirectAnswer pong = new FrameHandler.DirectAnswer(
        org.apache.pekko.http.impl.engine.ws.FrameEvent$.MODULE$.closeFrame(1000, "", Option.empty()));
    FrameHandler.ActivelyCloseWithCode invalid = new FrameHandler.ActivelyCloseWithCode(Option.apply(1007), "");
    below.sendNext(pong);
    below.sendNext(invalid);
    out.request(2);
    assertEquals(pong, out.expectNext());
    assertEquals(invalid, out.expectNext());
    assertInstanceOf(AgentConnection.StreamFailed.class, actor.receiveMessage());
    assertFalse(peerClosed.get());
  }

  @Test
  void theConnectionEndingUnderTheStageTellsTheActorOnce() {
    started();
    below.sendComplete();
    actor.expectMessage(AgentConnection.StreamCompleted.INSTANCE);
    out.expectSubscriptionAndComplete();
    actor.expectNoMessage(Duration.ofMillis(200));
    assertTrue(channel.offer("late"), "dropped once the socket has ended");
  }

  @Test
  void offersAndACloseMadeBeforeTheStageRunsAreKept() {
    AgentMessageStage.Channel early = new AgentMessageStage.Channel(4, () -> {});
    assertTrue(early.offer("hello"));
    early.close(4000);
    TestSubscriber.Probe<Object> sink = TestSource.<FrameHandler.Output>probe(kit.system().classicSystem())
        .via(Flow.fromGraph(new AgentMessageStage(actor.ref(), early, LIMIT, new AtomicBoolean())))
        .runWith(TestSink.probe(kit.system().classicSystem()), Materializer.matFromSystem(kit.system()));
    sink.request(2);
    assertEquals("hello", textOf(sink.expectNext()));
    assertEquals(Option.apply(4000), ((FrameHandler.ActivelyCloseWithCode) sink.expectNext()).code());
  }

  @Test
  void anActorThatStopsWhileTheSocketIsOpenGetsTheSocketClosedWith1011() {
    started();
    actor.stop();
    out.request(1);
    Object close = out.expectNext(Duration.ofSeconds(3));
    assertEquals(Option.apply(1011), assertInstanceOf(FrameHandler.ActivelyCloseWithCode.class, close).code());
  }

  @Test
  void theCapCountsUtf8BytesNotChars() {
    String s = "a\u00e9\u20ac\ud83d\ude00"; // 1 + 2 + 3 + 4 bytes
    assertEquals(s.getBytes(StandardCharsets.UTF_8).length, AgentMessageStage.utf8Length(s));
    assertEquals(10, AgentMessageStage.utf8Length(s));
  }

  @Test
  void abortRunsTheResetItWasGiven() {
    channel.abort();
    assertEquals(1, aborts.get());
    assertNull(channel.poll());
  }

  private static String textOf(Object frame) {
    FrameStart start = assertInstanceOf(FrameStart.class, frame);
    assertEquals(1, start.header().opcode().code(), "a text frame");
    assertTrue(start.header().fin());
    return start.data().decodeString(StandardCharsets.UTF_8);
  }
}
