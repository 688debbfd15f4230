package io.resticmanager.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.support.TestAgent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link AgentConnection} with probes for the host's entity and the job tracker, and a recording socket:
 * job events are acked only once the entity answers, a first store is counted once, an entity that starts
 * again is handed the unanswered events again, and one that never answers closes the socket with 1011.
 */
class AgentConnectionTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** What the connection sent and how it ended. */
  private static final class Socket implements Outbound {
    final BlockingQueue<String> sent = new LinkedBlockingQueue<>();
    final BlockingQueue<Integer> closed = new LinkedBlockingQueue<>();

    @Override
    public boolean offer(String text) {
      sent.add(text);
      return true;
    }

    @Override
    public void close(int code) {
      closed.add(code);
    }

    @Override
    public void abort() {
      closed.add(-1);
    }

    /** The next frame of {@code type} sent, skipping others. */
    String next(String type) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        String f = sent.poll(100, TimeUnit.MILLISECONDS);
        if (f != null && f.contains("\"type\":\"" + type + "\"")) return f;
      }
      throw new AssertionError("no " + type + " frame sent");
    }
  }

  private record Harness(ActorRef<AgentConnection.Command> connection, Socket socket,
      TestProbe<HostEntity.Command> entity, TestProbe<JobTracker.Command> tracker) {
    /** The next message the entity gets other than {@code AgentSeen} (every frame sends one). */
    <T> T entityGets(Class<T> type) {
      while (true) {
        HostEntity.Command m = entity.receiveMessage(WAIT);
        if (!(m instanceof HostEntity.AgentSeen)) return assertInstanceOf(type, m);
      }
    }

    void receive(String frame) {
      TestProbe<AgentConnection.StreamAck> ack = testKit.createTestProbe();
      connection.tell(new AgentConnection.Inbound(new InboundMessage.Text(frame), ack.getRef()));
      ack.receiveMessage(WAIT);
    }
  }

  private static Harness connect(Duration storeTimeout) throws Exception {
    Socket socket = new Socket();
    TestProbe<HostEntity.Command> entity = testKit.createTestProbe();
    TestProbe<JobTracker.Command> tracker = testKit.createTestProbe();
    Settings.Agents settings = new Settings.Agents(Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(30),
        1 << 20, Duration.ofHours(1), storeTimeout);
    ActorRef<AgentConnection.Command> c = testKit.spawn(AgentConnection.create("host-1", socket,
        new AgentConnection.Peers(entity.getRef(), tracker.getRef()), settings, x -> {}, x -> {}));
    Harness h = new Harness(c, socket, entity, tracker);
    h.receive(TestAgent.hello("web-1"));
    assertInstanceOf(HostEntity.AgentConnected.class, entity.receiveMessage(WAIT));
    socket.next("welcome");
    return h;
  }

  @Test
  void aJobEventIsAckedOnlyOnceStoredAndAFirstStoreIsCountedOnce() throws Exception {
    Harness h = connect(Duration.ofSeconds(30));
    UUID job = UUID.randomUUID();
    h.receive(TestAgent.finished(job, "succeeded", T0, 0, 5));
    HostEntity.FinishJob finish = h.entityGets(HostEntity.FinishJob.class);
    assertTrue(h.socket().sent.isEmpty(), "nothing acked before the entity answers");

    finish.replyTo().tell(new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.STORED,
        new HostEntity.Recorded(JobKind.BACKUP, JobStatus.SUCCEEDED, 2.5)));
    assertTrue(h.socket().next("ack").contains(job.toString()));
    assertEquals(new JobTracker.RecordJobFinished(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofMillis(2_500)),
        h.tracker().receiveMessage(WAIT));
    // A late second answer to the same event (an old incarnation's) is neither acked nor counted again.
    finish.replyTo().tell(new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.DUPLICATE, null));
    h.tracker().expectNoMessage(Duration.ofMillis(200));
    assertEquals(List.of(), List.copyOf(h.socket().sent));
  }

  @Test
  void anEntityThatStartsAgainIsHandedTheUnansweredEventsAgain() throws Exception {
    Harness h = connect(Duration.ofSeconds(30));
    UUID job = UUID.randomUUID();
    h.receive(TestAgent.started(job, "backup", T0));
    h.entityGets(HostEntity.StartJob.class);
    // The entity's node was lost; it starts again elsewhere and finds this socket.
    h.connection().tell(AgentConnection.Reattach.INSTANCE);
    h.entityGets(HostEntity.AgentConnected.class);
    HostEntity.StartJob again = h.entityGets(HostEntity.StartJob.class);
    assertEquals(job, again.start().jobId());
    again.replyTo().tell(new HostEntity.JobReply(job, "job.started", HostEntity.JobReply.Outcome.STORED, null));
    assertTrue(h.socket().next("ack").contains(job.toString()));
    assertTrue(h.socket().closed.isEmpty(), "the socket stays open");
  }

  @Test
  void anEventTheEntityNeverAnswersClosesTheSocketWith1011SoTheAgentResends() throws Exception {
    Harness h = connect(Duration.ofMillis(500));
    h.receive(TestAgent.started(UUID.randomUUID(), "check", T0));
    h.entityGets(HostEntity.StartJob.class);
    assertEquals(AgentConnection.CLOSE_SERVER_ERROR, h.socket().closed.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Test
  void anEndAnsweredUnknownWhileItsStartIsUnansweredWaitsForTheStartInsteadOfAnError() throws Exception {
    Harness h = connect(Duration.ofSeconds(30));
    UUID job = UUID.randomUUID();
    h.receive(TestAgent.started(job, "backup", T0));
    HostEntity.StartJob start = h.entityGets(HostEntity.StartJob.class);
    h.receive(TestAgent.finished(job, "succeeded", T0.plusSeconds(5), 0, 5));
    HostEntity.FinishJob finish = h.entityGets(HostEntity.FinishJob.class);
    // The start went to an incarnation that stopped; the end reached the next one, which has no such job.
    finish.replyTo().tell(new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.UNKNOWN_JOB, null));
    h.entity().expectNoMessage(Duration.ofMillis(200));
    assertEquals(List.of(), List.copyOf(h.socket().sent), "no error frame, no ack yet");

    start.replyTo().tell(new HostEntity.JobReply(job, "job.started", HostEntity.JobReply.Outcome.STORED, null));
    assertTrue(h.socket().next("ack").contains("\"of\":\"job.started\""));
    HostEntity.FinishJob again = h.entityGets(HostEntity.FinishJob.class);
    assertEquals(job, again.end().jobId());
    again.replyTo().tell(new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.STORED,
        new HostEntity.Recorded(JobKind.BACKUP, JobStatus.SUCCEEDED, 5.0)));
    String ack = h.socket().next("ack");
    assertTrue(ack.contains("\"of\":\"job.finished\"") && ack.contains(job.toString()), ack);
    assertEquals(new JobTracker.RecordJobFinished(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(5)),
        h.tracker().receiveMessage(WAIT));
    assertTrue(h.socket().sent.stream().noneMatch(f -> f.contains("\"error\"")), "no error frame");
  }

  @Test
  void anEndOfAJobNeverStartedIsStillAnUnknownJobError() throws Exception {
    Harness h = connect(Duration.ofSeconds(30));
    UUID job = UUID.randomUUID();
    h.receive(TestAgent.finished(job, "succeeded", T0, 0, 5));
    HostEntity.FinishJob finish = h.entityGets(HostEntity.FinishJob.class);
    finish.replyTo().tell(new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.UNKNOWN_JOB, null));
    String error = h.socket().next("error");
    assertTrue(error.contains("unknown_job") && error.contains(job.toString()), error);
  }
}
