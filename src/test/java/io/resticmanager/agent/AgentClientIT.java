package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.Ack;
import io.resticmanager.agents.Frame.BackupSummary;
import io.resticmanager.agents.Frame.CommandRun;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.agents.Frame.Welcome;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.support.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AgentClient} (and, for {@code command.run}, {@link JobQueue}) against {@link FakeAgentServer}:
 * a real Pekko HTTP WebSocket endpoint on 127.0.0.1 whose every answer the test decides.
 */
class AgentClientIT {
  private static final String TOKEN = "agent-token-for-tests";
  private static final Hello HELLO = new Hello(1, "0.1.0-test", "0.14.0", "web-01", "Linux 6.1");
  private static final Instant T = Instant.parse("2025-03-01T02:00:00Z");

  @TempDir Path dir;
  private FakeAgentServer server;
  private int port;
  private Outbox outbox;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = new FakeAgentServer(TOKEN);
    port = server.start(0);
    outbox = Outbox.open(dir.resolve("outbox"));
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    server.close();
  }

  private AgentClient client(Outbox box, Consumer<CommandRun> commands) {
    return client(List.of(wsUrl(port)), new Random(1), box, commands, fastBackoff());
  }

  private AgentClient client(List<URI> urls, Random order, Outbox box, Consumer<CommandRun> commands, Backoff backoff) {
    AgentClient c = new AgentClient(HttpClient.newHttpClient(), urls, order, TOKEN, HELLO, box, commands, backoff,
        Duration.ofSeconds(5));
    closeables.add(c);
    return c;
  }

  private static URI wsUrl(int port) {
    return URI.create("ws://127.0.0.1:" + port + "/api/v1/agents/ws");
  }

  private static Backoff fastBackoff() {
    return new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new Random(1));
  }

  private FakeAgentServer another() throws Exception {
    FakeAgentServer other = new FakeAgentServer(TOKEN);
    closeables.add(other);
    other.start(0);
    return other;
  }

  /** The next connection any of {@code servers} accepted, with the index of that server. */
  private static Map.Entry<Integer, FakeAgentServer.Conn> acceptAny(List<FakeAgentServer> servers) throws Exception {
    return Await.until(Duration.ofSeconds(20), () -> {
      for (int i = 0; i < servers.size(); i++) {
        FakeAgentServer.Conn c = servers.get(i).tryAccept();
        if (c != null) return Map.entry(i, c);
      }
      return null;
    }, Objects::nonNull);
  }

  private static JobStarted started(UUID id) {
    return new JobStarted(id, JobKind.BACKUP, T);
  }

  private static JobFinished finished(UUID id) {
    return new JobFinished(id, JobStatus.SUCCEEDED, T.plusSeconds(5), 0, Optional.empty(), Optional.empty());
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  @Test
  void helloIsTheFirstFrameAndHeartbeatsFollowAtTheWelcomeIntervalOnOneConnection() throws Exception {
    AgentClient c = client(outbox, cmd -> {});
    c.start();
    FakeAgentServer.Conn conn = server.accept();
    assertEquals(HELLO, conn.next());
    conn.send(new Welcome("7", "test", 1));
    await(c::connected, "the client counts itself connected");
    long t0 = System.nanoTime();
    for (int i = 0; i < 5; i++) assertInstanceOf(Frame.Heartbeat.class, conn.next());
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(took >= 3_500, "5 heartbeats at 1 s took only " + took + " ms");
    // Five intervals without a frame from the server: the pongs to the agent's pings kept it alive.
    assertEquals(1, c.connections());
  }

  @Test
  void unackedEventsAreResentInOrderAfterTheServerDropsTheConnectionAndAcksEmptyTheOutbox() throws Exception {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    outbox.append(started(a));
    outbox.append(finished(a));
    outbox.append(started(b));
    AgentClient c = client(outbox, cmd -> {});
    c.start();

    FakeAgentServer.Conn first = server.accept();
    assertEquals(HELLO, first.next());
    first.send(new Welcome("7", "test", 30));
    assertEquals(started(a), first.nextEvent());
    assertEquals(finished(a), first.nextEvent());
    assertEquals(started(b), first.nextEvent());
    first.send(Ack.started(a));
    await(() -> outbox.size() == 2, "the ack removed job.started of a");
    first.drop();

    FakeAgentServer.Conn second = server.accept();
    assertEquals(HELLO, second.next(), "hello comes before any resend");
    second.send(new Welcome("7", "test", 30));
    assertEquals(finished(a), second.nextEvent());
    assertEquals(started(b), second.nextEvent());

    UUID later = UUID.randomUUID();
    c.stored(outbox.append(started(later)));
    assertEquals(started(later), second.nextEvent(), "a new event goes after the resent ones");

    second.send(Ack.finished(a));
    second.send(Ack.started(b));
    second.send(Ack.started(later));
    assertTrue(outbox.awaitEmpty(Duration.ofSeconds(20)), "every acked event left the outbox");
    assertEquals(2, c.connections());
  }

  @Test
  void aServerRestartOnTheSamePortLosesNoEvent() throws Exception {
    UUID a = UUID.randomUUID();
    outbox.append(started(a));
    outbox.append(finished(a));
    AgentClient c = client(outbox, cmd -> {});
    c.start();
    FakeAgentServer.Conn conn = server.accept();
    conn.next();
    conn.send(new Welcome("7", "test", 30));
    assertEquals(started(a), conn.nextEvent());
    assertEquals(finished(a), conn.nextEvent());
    // The server goes down before storing anything: no acks.
    conn.drop();
    server.stop();
    server.close();

    server = new FakeAgentServer(TOKEN);
    server.start(port);
    FakeAgentServer.Conn again = server.accept();
    assertEquals(HELLO, again.next());
    again.send(new Welcome("7", "test", 30));
    assertEquals(started(a), again.nextEvent());
    assertEquals(finished(a), again.nextEvent());
    again.send(Ack.started(a));
    again.send(Ack.finished(a));
    assertTrue(outbox.awaitEmpty(Duration.ofSeconds(20)));
  }

  @Test
  void anAgentRestartResendsWhatThePreviousRunHadNotGotAcked() throws Exception {
    UUID a = UUID.randomUUID();
    outbox.append(started(a));
    AgentClient before = client(outbox, cmd -> {});
    before.start();
    FakeAgentServer.Conn conn = server.accept();
    conn.next();
    conn.send(new Welcome("7", "test", 30));
    assertEquals(started(a), conn.nextEvent());
    before.close();

    Outbox reopened = Outbox.open(dir.resolve("outbox"));
    AgentClient after = client(reopened, cmd -> {});
    after.start();
    FakeAgentServer.Conn conn2 = server.accept();
    assertEquals(HELLO, conn2.next());
    conn2.send(new Welcome("7", "test", 30));
    assertEquals(started(a), conn2.nextEvent());
    conn2.send(Ack.started(a));
    assertTrue(reopened.awaitEmpty(Duration.ofSeconds(20)));
  }

  private static RepositoryStats stats(int snapshots) {
    return new RepositoryStats(T.plusSeconds(snapshots), snapshots, 1_000L * snapshots, OptionalLong.empty());
  }

  /** Every frame the agent sends within {@code time}. */
  private static List<Frame> framesWithin(FakeAgentServer.Conn conn, Duration time) throws InterruptedException {
    List<Frame> out = new ArrayList<>();
    long end = System.nanoTime() + time.toNanos();
    for (long left = time.toNanos(); left > 0; left = end - System.nanoTime()) {
      Frame f = conn.received.poll(left, TimeUnit.NANOSECONDS);
      if (f != null) out.add(f);
    }
    return out;
  }

  @Test
  void theLatestRepositoryStatsAreSentWhenCollectedAndAgainAfterEveryWelcome() throws Exception {
    UUID a = UUID.randomUUID();
    outbox.append(started(a));
    AgentClient c = client(outbox, cmd -> {});
    c.repositoryStats(stats(1));
    c.start();

    FakeAgentServer.Conn first = server.accept();
    assertEquals(HELLO, first.next());
    first.send(new Welcome("7", "test", 30));
    assertEquals(started(a), first.nextEvent(), "unacked events first");
    assertEquals(stats(1), first.nextEvent(), "then the statistics collected before the connection");
    c.repositoryStats(stats(2));
    assertEquals(stats(2), first.nextEvent(), "new statistics are sent at once");
    first.drop();

    FakeAgentServer.Conn second = server.accept();
    assertEquals(HELLO, second.next());
    second.send(new Welcome("7", "test", 30));
    assertEquals(started(a), second.nextEvent());
    assertEquals(stats(2), second.nextEvent(), "the latest again after the welcome");
    assertEquals(List.of(), framesWithin(second, Duration.ofSeconds(1)), "sent once per welcome, never acked");
  }

  @Test
  void anOlderServerThatAnswersUnknownTypeIsToleratedLoggedOnceAndNotSentStatisticsAgainOnThatConnection()
      throws Exception {
    // What a server older than repository.stats answers: the error code and message of its wire codec.
    Frame.ErrorFrame unknown = new Frame.ErrorFrame(Frame.ErrorFrame.UNKNOWN_TYPE,
        "unknown type \"repository.stats\"", Optional.empty());
    // A command.run sent after the error tells the test when the client has read the error.
    BlockingQueue<CommandRun> commands = new LinkedBlockingQueue<>();
    try (LogLines log = new LogLines(AgentClient.class)) {
      AgentClient c = client(outbox, commands::add);
      c.repositoryStats(stats(1));
      c.start();
      FakeAgentServer.Conn first = server.accept();
      assertEquals(HELLO, first.next());
      first.send(new Welcome("7", "old-server", 1));
      assertEquals(stats(1), first.nextEvent());
      first.send(unknown);
      first.send(new CommandRun(UUID.randomUUID(), JobKind.CHECK));
      assertTrue(commands.poll(20, TimeUnit.SECONDS) != null);
      c.repositoryStats(stats(2));
      List<Frame> after = framesWithin(first, Duration.ofMillis(2_500));
      assertTrue(after.stream().allMatch(f -> f instanceof Frame.Heartbeat) && after.size() >= 2,
          "only heartbeats on the connection that refused statistics: " + after);
      assertTrue(c.connected());
      assertEquals(1, c.connections(), "the connection stays open");

      first.drop();
      FakeAgentServer.Conn second = server.accept();
      assertEquals(HELLO, second.next());
      second.send(new Welcome("7", "old-server", 30));
      assertEquals(stats(2), second.nextEvent(), "a new connection, perhaps to an upgraded node, tries once");
      second.send(unknown);
      second.send(new CommandRun(UUID.randomUUID(), JobKind.CHECK));
      assertTrue(commands.poll(20, TimeUnit.SECONDS) != null);
      c.repositoryStats(stats(3));
      assertEquals(List.of(), framesWithin(second, Duration.ofSeconds(1)));
      assertEquals(1, log.containing("repository.stats").size(), "logged once: " + log.all());
      assertTrue(log.containing("repository.stats").get(0).startsWith("WARN "), log.all().toString());
      assertTrue(log.containing("The server refused a frame").isEmpty(), log.all().toString());
    }
  }

  @Test
  void theAgentKeepsRetryingWithBackoffWhileTheServerRefusesItsToken() throws Exception {
    server.refuseNext.set(3);
    AgentClient c = client(outbox, cmd -> {});
    c.start();
    FakeAgentServer.Conn conn = server.accept();
    assertEquals(HELLO, conn.next());
    assertEquals(3, server.refused.get());
  }

  @Test
  void commandRunStartsAJobWhoseEventsAreStoredSentAndAcked() throws Exception {
    Path restic = dir.resolve("fake-restic");
    Files.writeString(restic, "#!/bin/sh\n"
        + "echo '{\"message_type\":\"status\",\"percent_done\":0.5,\"files_done\":1,\"bytes_done\":10}'\n"
        + "echo '{\"message_type\":\"summary\",\"files_new\":1,\"files_changed\":0,\"files_unmodified\":0,"
        + "\"data_added\":10,\"total_files_processed\":1,\"total_bytes_processed\":10,\"total_duration\":0.1,"
        + "\"snapshot_id\":\"feedbeef\"}'\n");
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    ResticRunner runner = new ResticRunner(restic.toString(), Map.of(), List.of(dir.toString()), ForgetPolicy.NONE,
        k -> Duration.ofMinutes(1), Clock.systemUTC());
    JobQueue jobs = new JobQueue(runner, outbox, Clock.systemUTC(), JobQueue.Events.NONE);
    closeables.add(jobs);
    AgentClient c = client(outbox, cmd -> jobs.submit(cmd.jobId(), cmd.kind(), JobQueue.Origin.SERVER));
    jobs.events(c);
    jobs.start();
    c.start();

    FakeAgentServer.Conn conn = server.accept();
    assertEquals(HELLO, conn.next());
    conn.send(new Welcome("7", "test", 30));
    UUID id = UUID.randomUUID();
    conn.send(new CommandRun(id, JobKind.BACKUP));

    JobStarted s = assertInstanceOf(JobStarted.class, conn.nextEvent());
    assertEquals(id, s.jobId());
    assertEquals(JobKind.BACKUP, s.kind());
    JobFinished f = assertInstanceOf(JobFinished.class, conn.nextEvent());
    assertEquals(id, f.jobId());
    assertEquals(JobStatus.SUCCEEDED, f.status());
    assertEquals(Optional.of(new BackupSummary(1, 0, 0, 10, 1, 10, 0.1, "feedbeef")), f.summary());
    assertEquals(2, outbox.size(), "both events wait in the outbox until acked");

    conn.send(Ack.started(id));
    conn.send(Ack.finished(id));
    assertTrue(outbox.awaitEmpty(Duration.ofSeconds(20)));

    conn.send(new CommandRun(id, JobKind.BACKUP));
    conn.send(new CommandRun(UUID.randomUUID(), JobKind.CHECK));
    JobStarted next = assertInstanceOf(JobStarted.class, conn.nextEvent());
    assertEquals(JobKind.CHECK, next.kind(), "a repeated command.run for a known job id runs nothing");
  }

  @Test
  void aRestoreFromAServerThatSendsNoTargetIsReportedFailedWithoutRunningRestic() throws Exception {
    Path ran = dir.resolve("ran");
    Path restic = dir.resolve("fake-restic");
    Files.writeString(restic, "#!/bin/sh\ntouch '" + ran + "'\n");
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    JobQueue jobs = new JobQueue(new ResticRunner(restic.toString(), Map.of(), List.of(dir.toString()),
        ForgetPolicy.NONE, k -> Duration.ofMinutes(1), Clock.systemUTC()), outbox, Clock.systemUTC(), JobQueue.Events.NONE);
    closeables.add(jobs);
    AgentClient c = client(outbox, cmd -> jobs.submit(cmd.jobId(), cmd.kind(), cmd.restore(), JobQueue.Origin.SERVER));
    jobs.events(c);
    jobs.start();
    c.start();

    FakeAgentServer.Conn conn = server.accept();
    assertEquals(HELLO, conn.next());
    conn.send(new Welcome("7", "test", 30));
    UUID id = UUID.randomUUID();
    conn.send(new CommandRun(id, JobKind.RESTORE)); // {"type":"command.run","job_id":…,"kind":"restore"}: no fields

    assertEquals(JobKind.RESTORE, assertInstanceOf(JobStarted.class, conn.nextEvent()).kind());
    JobFinished f = assertInstanceOf(JobFinished.class, conn.nextEvent());
    assertEquals(id, f.jobId());
    assertEquals(JobStatus.FAILED, f.status());
    assertEquals(ResticRunner.NOT_STARTED, f.exitCode());
    assertTrue(f.error().orElseThrow().contains("without a target"), f.error().orElseThrow());
    assertTrue(Files.notExists(ran), "restic never ran");
  }

  @Test
  void eachRoundStartsAtTheUrlTheRandomPicks() throws Exception {
    FakeAgentServer second = another();
    AgentClient c = client(List.of(wsUrl(port), wsUrl(second.port())), Rounds.swapTwo(), outbox, cmd -> {},
        fastBackoff());
    c.start();
    assertEquals(HELLO, second.accept().next(), "the Random put the second URL first");
    assertNull(server.tryAccept());
  }

  @Test
  void aNodeThatIsDownHandsOverToTheNextUrlWithoutABackoffDelay() throws Exception {
    AgentClient c = client(List.of(wsUrl(Rounds.deadPort()), wsUrl(port)), Rounds.keepOrder(), outbox, cmd -> {},
        Rounds.minuteBackoff());
    c.start();
    FakeAgentServer.Conn conn = server.accept();
    assertEquals(HELLO, conn.next());
    conn.send(new Welcome("7", "test", 30));
    await(c::connected, "connected to the live node");
  }

  @Test
  void whenTheConnectedNodeGoesAwayTheClientReconnectsToAnother() throws Exception {
    FakeAgentServer second = another();
    AgentClient c = client(List.of(wsUrl(port), wsUrl(second.port())), Rounds.keepOrder(), outbox, cmd -> {},
        fastBackoff());
    c.start();
    FakeAgentServer.Conn first = server.accept();
    assertEquals(HELLO, first.next());
    first.send(new Welcome("7", "node-1", 30));
    await(c::connected, "connected to the first node");

    server.close(); // the node's process ends: its sockets die with it
    FakeAgentServer.Conn next = second.accept();
    assertEquals(HELLO, next.next());
    next.send(new Welcome("7", "node-2", 30));
    await(() -> c.connections() == 2, "connected to the second node");
  }

  @Test
  void overManyReconnectsTheConnectionsSpreadOverTheNodes() throws Exception {
    List<FakeAgentServer> nodes = List.of(server, another());
    AgentClient c = client(List.of(wsUrl(port), wsUrl(nodes.get(1).port())), new Random(42), outbox, cmd -> {},
        fastBackoff());
    c.start();
    int[] perNode = new int[2];
    for (int i = 1; i <= 20; i++) {
      Map.Entry<Integer, FakeAgentServer.Conn> accepted = acceptAny(nodes);
      perNode[accepted.getKey()]++;
      FakeAgentServer.Conn conn = accepted.getValue();
      assertEquals(HELLO, conn.next());
      conn.send(new Welcome("7", "test", 30));
      int welcomed = i;
      await(() -> c.connections() == welcomed, "connection " + i + " welcomed");
      conn.drop();
    }
    assertTrue(perNode[0] >= 5 && perNode[1] >= 5, "connections per node: " + Arrays.toString(perNode));
  }
}
