package io.resticmanager.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.BuildInfo;
import io.resticmanager.config.Settings;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.Database;
import io.resticmanager.store.HostRow;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import io.resticmanager.support.Await;
import io.resticmanager.support.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HostEntity}s (spawned directly, one per host, as sharding would) and the node's {@link NodeHosts}
 * they publish to, with probes for the agent connections, on a real SQLite store. Time is a test clock the
 * entities read; their timers are real but short, so a deadline passes when the test moves the clock and
 * the next tick looks.
 */
class HostEntityTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final long T0 = Instant.parse("2026-11-01T00:00:00Z").toEpochMilli();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration LONG = Duration.ofHours(1);

  @TempDir Path dir;
  private Database db;
  private HostStore hosts;
  private JobStore jobs;
  private AlertStore alerts;
  private final AtomicLong now = new AtomicLong(T0);
  /** When set, counted down at every read of the clock. */
  private volatile CountDownLatch clockReads;
  private ActorRef<NodeHosts.Command> view;
  private HostEntity.Deps deps;
  /** The running entity of each host id, spawned on first use. */
  private final Map<String, ActorRef<HostEntity.Command>> entities = new HashMap<>();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void open() {
    db = TestDatabases.open(TestDatabases.sqlite(dir));
    hosts = new HostStore(db);
    jobs = new JobStore(db);
    alerts = new AlertStore(db);
  }

  @AfterEach
  void close() {
    stopAll();
    db.close();
  }

  // ------------------------------------------------------------------ jobs

  @Test
  void aNewlyStoredFinishSaysWhatToRecordOnceAndADuplicateNothing() {
    HostRow h = enroll("web-1", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    connect(h, testKit.createTestProbe());
    UUID job = UUID.randomUUID();

    assertEquals(HostEntity.JobReply.Outcome.STORED, startJob(h, job, JobKind.BACKUP, T0));
    assertEquals(HostEntity.JobReply.Outcome.DUPLICATE, startJob(h, job, JobKind.BACKUP, T0 - 5_000));
    HostEntity.JobReply first = finish(h, job, JobStatus.SUCCEEDED, T0 + 42_500);
    assertEquals(HostEntity.JobReply.Outcome.STORED, first.outcome());
    assertEquals(new HostEntity.Recorded(JobKind.BACKUP, JobStatus.SUCCEEDED, 42.5), first.recorded());

    HostEntity.JobReply again = finish(h, job, JobStatus.SUCCEEDED, T0 + 42_500);
    assertEquals(HostEntity.JobReply.Outcome.DUPLICATE, again.outcome());
    assertEquals(null, again.recorded());
    HostEntity.JobReply other = finish(h, job, JobStatus.FAILED, T0 + 99_000);
    assertEquals(HostEntity.JobReply.Outcome.DUPLICATE, other.outcome());
    assertEquals(null, other.recorded());
  }

  @Test
  void aFinishOfAnUnknownOrForeignJobIsUnknownAndNotRecorded() {
    HostRow a = enroll("a", T0);
    HostRow b = enroll("b", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    UUID job = UUID.randomUUID();
    assertEquals(HostEntity.JobReply.Outcome.UNKNOWN_JOB, finishJob(a, job, JobStatus.SUCCEEDED, T0));
    assertEquals(HostEntity.JobReply.Outcome.STORED, startJob(a, job, JobKind.CHECK, T0));
    assertEquals(HostEntity.JobReply.Outcome.CONFLICT, startJob(b, job, JobKind.CHECK, T0));
    HostEntity.JobReply foreign = finish(b, job, JobStatus.SUCCEEDED, T0);
    assertEquals(HostEntity.JobReply.Outcome.UNKNOWN_JOB, foreign.outcome());
    assertEquals(null, foreign.recorded());
  }

  @Test
  void anEntityOfAnUnknownHostRefusesEverythingAndStops() {
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    HostRow ghost = new HostRow(UUID.randomUUID().toString(), "ghost", T0, 0, "", "", "");
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    ActorRef<HostEntity.Command> e = entity(ghost.id());
    e.tell(new HostEntity.AgentConnected(hello(), conn.getRef()));
    assertEquals(HostEntity.JobReply.Outcome.FAILED, startJob(ghost, UUID.randomUUID(), JobKind.BACKUP, T0));
    assertEquals(HostEntity.JobReply.Outcome.FAILED, finishJob(ghost, UUID.randomUUID(), JobStatus.FAILED, T0));
    conn.expectMessage(WAIT, AgentLink.Revoked.INSTANCE);
    TestProbe<HostEntity.HostReply> reply = testKit.createTestProbe();
    e.tell(new HostEntity.GetHost(reply.getRef()));
    assertEquals(HostEntity.NoSuchHost.INSTANCE, reply.receiveMessage(WAIT));
    assertEquals(List.of(), sample().hosts());
  }

  // ------------------------------------------------------------------ connections

  @Test
  void aNewerConnectionReplacesTheOlderWhichIsToldReplaced() {
    HostRow h = enroll("db-1", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    TestProbe<AgentLink> first = testKit.createTestProbe();
    TestProbe<AgentLink> second = testKit.createTestProbe();
    connect(h, first);
    connect(h, second);

    first.expectMessage(WAIT, AgentLink.Replaced.INSTANCE);
    entity(h.id()).tell(new HostEntity.AgentDisconnected(first.getRef()));
    assertTrue(view(h).online(), "the replaced connection's end leaves the host online");
    second.expectNoMessage(Duration.ofMillis(100));

    entity(h.id()).tell(new HostEntity.AgentDisconnected(second.getRef()));
    assertFalse(view(h).online());
  }

  @Test
  void aConnectionActorThatStopsTakesTheHostOffline() throws Exception {
    HostRow h = enroll("db-2", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);
    assertTrue(view(h).online());
    conn.stop();
    Await.until(WAIT, () -> !view(h).online());
  }

  @Test
  void aFrameFromASocketTheEntityDoesNotKnowReattachesIt() {
    HostRow h = enroll("moved", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    now.addAndGet(500);
    entity(h.id()).tell(new HostEntity.AgentSeen(conn.getRef()));
    HostView v = view(h);
    assertTrue(v.online());
    assertEquals(T0 + 500, v.lastSeenAt());
    HostEntity.JobSent sent = assertInstanceOf(HostEntity.JobSent.class, runJob(h.id(), JobKind.CHECK));
    assertEquals(new AgentLink.RunJob(sent.jobId(), JobKind.CHECK, null), conn.receiveMessage(WAIT));
  }

  @Test
  void aStartingEntityAsksEveryNodesSocketDirectoryForItsHostsSocket() {
    HostRow h = enroll("found", T0);
    TestProbe<AgentLink.Locate> directory = testKit.createTestProbe();
    testKit.system().receptionist().tell(
        org.apache.pekko.actor.typed.receptionist.Receptionist.register(AgentLink.DIRECTORY, directory.getRef()));
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    assertEquals(new AgentLink.Locate(h.id()), directory.receiveMessage(WAIT));
  }

  @Test
  void removingAHostRevokesItsConnectionAndForgetsIt() {
    HostRow h = enroll("gone", T0);
    HostRow stays = enroll("stays", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    awaitHosts(2);
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);

    assertEquals(new HostEntity.Removed(true), remove(h.id()));
    conn.expectMessage(WAIT, AgentLink.Revoked.INSTANCE);
    assertEquals(List.of("stays"), sample().hosts().stream().map(HostSample::name).toList());
    assertEquals(new HostEntity.Removed(false), remove(h.id()));
    assertEquals(Optional.empty(), await(hosts.hostOfAgentToken("anything")));
    assertEquals(List.of(stays.id()), await(hosts.ids()));

    TestProbe<AgentLink> late = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.AgentConnected(hello(), late.getRef()));
    late.expectMessage(WAIT, AgentLink.Revoked.INSTANCE);
  }

  @Test
  void runningAJobSendsCommandRunToTheConnectionOrSaysWhyNot() {
    HostRow h = enroll("runner", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    assertEquals(HostEntity.HostOffline.INSTANCE, runJob(h.id(), JobKind.BACKUP));
    assertEquals(HostEntity.NoSuchHost.INSTANCE, runJob(UUID.randomUUID().toString(), JobKind.BACKUP));

    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);
    HostEntity.JobSent sent = assertInstanceOf(HostEntity.JobSent.class, runJob(h.id(), JobKind.PRUNE));
    assertEquals(new AgentLink.RunJob(sent.jobId(), JobKind.PRUNE, null), conn.receiveMessage(WAIT));

    RestoreSpec restore = new RestoreSpec("latest", "/srv/restore", List.of("/etc/nginx"));
    TestProbe<HostEntity.RunJobReply> reply = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.RunJob(JobKind.RESTORE, restore, reply.getRef()));
    HostEntity.JobSent restoring = assertInstanceOf(HostEntity.JobSent.class, reply.receiveMessage(WAIT));
    assertEquals(new AgentLink.RunJob(restoring.jobId(), JobKind.RESTORE, restore), conn.receiveMessage(WAIT),
        "what to restore reaches the connection");
  }

  @Test
  void aHostIsShownAsTheApiShowsIt() {
    HostRow h = enroll("shown", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    assertEquals(new HostView(h.id(), "shown", false, 0, "", "", "", T0), view(h));
    connect(h, testKit.createTestProbe());
    assertEquals(new HostView(h.id(), "shown", true, T0, "agent-9", "0.17.0", "linux", T0), view(h));
    TestProbe<HostEntity.HostReply> reply = testKit.createTestProbe();
    entity(UUID.randomUUID().toString()).tell(new HostEntity.GetHost(reply.getRef()));
    assertEquals(HostEntity.NoSuchHost.INSTANCE, reply.receiveMessage(WAIT));
  }

  // ------------------------------------------------------------------ what /metrics sees

  @Test
  void theSampleReflectsHostsTheirJobsAndOpenAlerts() {
    HostRow a = enroll("alpha", T0);
    HostRow b = enroll("beta", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    FleetSample empty = awaitHosts(2);
    assertEquals(0, online(empty));
    assertEquals(Map.of(), empty.openAlertsByKind());

    connect(a, testKit.createTestProbe());
    UUID ok = UUID.randomUUID();
    startJob(a, ok, JobKind.BACKUP, T0);
    finishJob(a, ok, JobStatus.SUCCEEDED, T0 + 10_000);
    UUID bad = UUID.randomUUID();
    startJob(a, bad, JobKind.CHECK, T0 + 20_000);
    finishJob(a, bad, JobStatus.FAILED, T0 + 30_000);
    UUID badBackup = UUID.randomUUID();
    startJob(a, badBackup, JobKind.BACKUP, T0 + 40_000);
    finishJob(a, badBackup, JobStatus.FAILED, T0 + 50_000);

    FleetSample s = sample();
    assertEquals(1, online(s));
    assertEquals(Map.of(AlertKind.CHECK_FAILED, 1, AlertKind.BACKUP_FAILED, 1), s.openAlertsByKind());
    HostSample alpha = host(s, "alpha");
    assertTrue(alpha.online());
    assertEquals(T0, alpha.lastSeenEpochMillis());
    assertEquals(Map.of(JobKind.BACKUP, T0 + 50_000, JobKind.CHECK, T0 + 30_000), alpha.lastJobEpochMillis());
    assertEquals(Map.of(JobKind.BACKUP, T0 + 10_000), alpha.lastSuccessEpochMillis());
    assertEquals(4321, alpha.lastBackupAddedBytes());
    assertEquals(2, alpha.openAlerts());
    assertEquals("agent-9", alpha.agentVersion());
    assertEquals("0.17.0", alpha.resticVersion());
    assertEquals("linux", alpha.os());
    HostSample beta = host(s, "beta");
    assertFalse(beta.online());
    assertEquals(-1, beta.lastSeenEpochMillis());
    assertEquals(-1, beta.lastBackupAddedBytes());
    assertEquals(0, beta.openAlerts());
    assertTrue(b.id().length() > 0);
  }

  @Test
  void hostsJobsAndOpenAlertsAreLoadedFromTheStoreWhenTheEntityStartsAgain() {
    HostRow h = enroll("persist", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    connect(h, testKit.createTestProbe());
    UUID ok = UUID.randomUUID();
    startJob(h, ok, JobKind.BACKUP, T0);
    finishJob(h, ok, JobStatus.SUCCEEDED, T0 + 1_000);
    UUID bad = UUID.randomUUID();
    startJob(h, bad, JobKind.PRUNE, T0 + 2_000);
    finishJob(h, bad, JobStatus.FAILED, T0 + 3_000);
    FleetSample before = sample();
    stopAll();

    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    FleetSample after = awaitHosts(1);
    assertEquals(before.openAlertsByKind(), after.openAlertsByKind());
    HostSample was = before.hosts().get(0);
    HostSample is = after.hosts().get(0);
    assertFalse(is.online());
    assertEquals(was.lastJobEpochMillis(), is.lastJobEpochMillis());
    assertEquals(was.lastSuccessEpochMillis(), is.lastSuccessEpochMillis());
    assertEquals(was.lastBackupAddedBytes(), is.lastBackupAddedBytes());
    assertEquals(was.openAlerts(), is.openAlerts());
    assertEquals(was.agentVersion(), is.agentVersion());
  }

  @Test
  void anEntityHandedOffLeavesTheNodesView() throws Exception {
    HostRow h = enroll("leaving", T0);
    enroll("staying", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    awaitHosts(2);
    entity(h.id()).tell(HostEntity.HandOff.INSTANCE);
    awaitSample(s -> names(s).equals(List.of("staying")));
  }

  @Test
  void aHandOffWaitsForTheWritesInFlightSoTheNextIncarnationSeesThem() throws Exception {
    HostRow h = enroll("moving", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    connect(h, testKit.createTestProbe());
    UUID job = UUID.randomUUID();
    CountDownLatch writer = stallWriter();
    TestProbe<HostEntity.JobReply> started = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.StartJob(new HostEntity.JobStart(job, JobKind.BACKUP, T0), started.getRef()));
    entity(h.id()).tell(HostEntity.HandOff.INSTANCE);
    // Still running: it answers, and only then stops (the view forgets it).
    view(h);
    started.expectNoMessage(Duration.ofMillis(200));
    writer.countDown();
    assertEquals(HostEntity.JobReply.Outcome.STORED, started.receiveMessage(WAIT).outcome());
    awaitSample(s -> s.hosts().isEmpty());
    // The next incarnation finds the start stored.
    assertEquals(HostEntity.JobReply.Outcome.STORED, finishJob(h, job, JobStatus.SUCCEEDED, T0 + 1_000));
  }

  // ------------------------------------------------------------------ the sample is kept until it changes

  @Test
  void scrapesOfAnUnchangedFleetGetTheSameSampleWhateverElseHappens() {
    HostRow h = enroll("steady", T0);
    enroll("idle", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    connect(h, testKit.createTestProbe());
    UUID job = UUID.randomUUID();
    startJob(h, job, JobKind.BACKUP, T0);
    finishJob(h, job, JobStatus.FAILED, T0 + 1_000);
    awaitHosts(2);
    FleetSample first = sample();

    // None of these changes what /metrics shows.
    assertEquals(HostEntity.JobReply.Outcome.STORED, startJob(h, UUID.randomUUID(), JobKind.CHECK, T0 + 2_000));
    assertInstanceOf(HostEntity.JobSent.class, runJob(h.id(), JobKind.CHECK));
    view(h);
    AlertRow open = openAlerts().get(0);
    AlertRow acked = await(alerts.acknowledge(open.id(), T0 + 3_000)).orElseThrow();
    entity(h.id()).tell(new HostEntity.AlertAcknowledged(acked));
    assertEquals(new HostEntity.Removed(false), remove(UUID.randomUUID().toString()));
    view(h);

    assertSame(first, sample());
    assertEquals(Map.of(AlertKind.BACKUP_FAILED, 1), first.openAlertsByKind());
  }

  @Test
  void everyChangeToWhatTheSampleShowsGivesANewSampleAndUnchangedHostsKeepTheirs() throws Exception {
    HostRow h = enroll("busy", T0);
    HostRow other = enroll("bystander", T0);
    start(Duration.ofMillis(800), Duration.ofHours(26), Duration.ofHours(1));
    FleetSample s = awaitHosts(2);
    HostSample bystander = host(s, "bystander");
    assertFalse(host(s, "busy").online());

    // Hello: online, versions, last seen.
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);
    s = changedSample(s);
    assertEquals(1, online(s));
    assertTrue(host(s, "busy").online());
    assertEquals("agent-9", host(s, "busy").agentVersion());
    assertEquals(T0, host(s, "busy").lastSeenEpochMillis());
    assertSame(bystander, host(s, "bystander"));

    // A frame: last seen.
    now.addAndGet(100);
    entity(h.id()).tell(new HostEntity.AgentSeen(conn.getRef()));
    view(h);
    s = changedSample(s);
    assertEquals(T0 + 100, host(s, "busy").lastSeenEpochMillis());

    // A hello with other versions, on a new connection that replaces the old.
    TestProbe<AgentLink> conn2 = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.AgentConnected(new HostEntity.AgentHello("agent-10", "0.18.0", "freebsd"),
        conn2.getRef()));
    view(h);
    s = changedSample(s);
    assertEquals(List.of("agent-10", "0.18.0", "freebsd"), List.of(host(s, "busy").agentVersion(),
        host(s, "busy").resticVersion(), host(s, "busy").os()));

    // A failed backup: last job, added bytes, an open alert.
    UUID failed = UUID.randomUUID();
    startJob(h, failed, JobKind.BACKUP, now.get());
    finishJob(h, failed, JobStatus.FAILED, now.get() + 10);
    s = changedSample(s);
    assertEquals(Map.of(JobKind.BACKUP, now.get() + 10), host(s, "busy").lastJobEpochMillis());
    assertEquals(Map.of(), host(s, "busy").lastSuccessEpochMillis());
    assertEquals(4321, host(s, "busy").lastBackupAddedBytes());
    assertEquals(1, host(s, "busy").openAlerts());
    assertEquals(Map.of(AlertKind.BACKUP_FAILED, 1), s.openAlertsByKind());

    // A succeeded backup: last success, and the alert resolved.
    UUID ok = UUID.randomUUID();
    startJob(h, ok, JobKind.BACKUP, now.get());
    finishJob(h, ok, JobStatus.SUCCEEDED, now.get() + 20);
    s = changedSample(s);
    assertEquals(Map.of(JobKind.BACKUP, now.get() + 20), host(s, "busy").lastSuccessEpochMillis());
    assertEquals(0, host(s, "busy").openAlerts());
    assertEquals(Map.of(), s.openAlertsByKind());
    assertSame(bystander, host(s, "bystander"));

    // A job that changes no alert: last job and last success only.
    UUID check = UUID.randomUUID();
    startJob(h, check, JobKind.CHECK, now.get());
    finishJob(h, check, JobStatus.SUCCEEDED, now.get() + 30);
    s = changedSample(s);
    assertEquals(now.get() + 30, host(s, "busy").lastSuccessEpochMillis().get(JobKind.CHECK));

    // The connection ends.
    entity(h.id()).tell(new HostEntity.AgentDisconnected(conn2.getRef()));
    view(h);
    s = changedSample(s);
    assertFalse(host(s, "busy").online());
    assertEquals(0, online(s));

    // A connection actor that stops.
    TestProbe<AgentLink> conn3 = testKit.createTestProbe();
    connect(h, conn3);
    s = changedSample(s);
    assertTrue(host(s, "busy").online());
    conn3.stop();
    Await.until(WAIT, this::sample, x -> !host(x, "busy").online());

    // A silent connection the liveness check drops; then, once stored, the agent_offline alerts it raises.
    TestProbe<AgentLink> conn4 = testKit.createTestProbe();
    connect(h, conn4);
    s = changedSample(s);
    assertTrue(host(s, "busy").online());
    CountDownLatch writer = stallWriter();
    now.addAndGet(1_000);
    conn4.expectMessage(WAIT, AgentLink.Silent.INSTANCE);
    view(h);
    s = changedSample(s);
    assertFalse(host(s, "busy").online());
    assertEquals(Map.of(), s.openAlertsByKind());
    writer.countDown();
    Await.until(WAIT, this::sample, x -> x.openAlertsByKind().equals(Map.of(AlertKind.AGENT_OFFLINE, 2)));

    // Enrolment and removal.
    s = sample();
    HostRow late = enroll("late", now.get());
    view(late);
    s = changedSample(s);
    assertEquals(List.of("busy", "bystander", "late"), names(s));
    assertEquals(new HostEntity.Removed(true), remove(other.id()));
    s = changedSample(s);
    assertEquals(List.of("busy", "late"), names(s));
  }

  /**
   * A new sample, whose rows (which the view keeps rendered, re-rendering only changed hosts) are those its
   * hosts render afresh.
   */
  private FleetSample changedSample(FleetSample previous) {
    FleetSample next = sample();
    assertNotSame(previous, next, "a change gives a new sample");
    assertNotNull(next.rendered());
    assertEquals(exposition(new FleetSample(next.hosts(), next.agentsConnected(), next.openAlertsByKind())),
        exposition(next), "the view's kept rows are its hosts' rows");
    return next;
  }

  private static String exposition(FleetSample s) {
    return new String(PrometheusTextWriter.INSTANCE.toBytes(
        ServerMetrics.build(JobDurations.empty(), s, new BuildInfo("v", "r", "j"))), StandardCharsets.UTF_8);
  }

  private static HostSample host(FleetSample s, String name) {
    return s.hosts().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
  }

  private static int online(FleetSample s) {
    return (int) s.hosts().stream().filter(HostSample::online).count();
  }

  private static List<String> names(FleetSample s) {
    return s.hosts().stream().map(HostSample::name).sorted().toList();
  }

  // ------------------------------------------------------------------ agent_offline

  @Test
  void aSilentHostIsToldSilentAndRaisesAgentOfflineAndAReconnectResolvesIt() throws Exception {
    HostRow h = enroll("quiet", T0);
    start(Duration.ofMillis(800), Duration.ofHours(26), Duration.ofHours(1));
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);

    now.addAndGet(700);
    entity(h.id()).tell(new HostEntity.AgentSeen(conn.getRef()));
    assertEquals(T0 + 700, view(h).lastSeenAt());
    now.addAndGet(700);
    conn.expectNoMessage(Duration.ofMillis(500));
    now.addAndGet(200);
    conn.expectMessage(WAIT, AgentLink.Silent.INSTANCE);
    awaitSample(s -> s.openAlertsByKind().equals(Map.of(AlertKind.AGENT_OFFLINE, 1)));
    assertFalse(view(h).online());
    AlertRow open = openAlerts().get(0);
    assertEquals(AlertKind.AGENT_OFFLINE, open.kind());
    assertEquals(T0 + 1_600, open.raisedAt());

    connect(h, testKit.createTestProbe());
    awaitSample(s -> s.openAlertsByKind().isEmpty());
    assertEquals(List.of(), openAlerts());
  }

  @Test
  void aHostNeverHeardFromIsCountedFromItsEnrolmentNotFromTheEntitysStart() throws Exception {
    HostRow old = enroll("old", T0);
    start(Duration.ofMillis(800), Duration.ofHours(26), Duration.ofHours(1));
    HostRow fresh = enroll("fresh", T0 + 600_000);
    view(fresh);
    // Both entities started (and took their start time) before the clock moves.
    awaitHosts(2);
    now.set(T0 + 600_000);

    Await.until(WAIT, this::openAlerts, l -> l.stream().anyMatch(a -> a.hostId().equals(old.id())));
    awaitSample(s -> s.openAlertsByKind().equals(Map.of(AlertKind.AGENT_OFFLINE, 1)));
    assertEquals(List.of(old.id()), openAlerts().stream().map(AlertRow::hostId).toList());

    now.addAndGet(800);
    awaitSample(s -> s.openAlertsByKind().equals(Map.of(AlertKind.AGENT_OFFLINE, 2)));
  }

  @Test
  void aReconnectWhileTheOfflineAlertIsStillBeingStoredResolvesIt() throws Exception {
    HostRow h = enroll("flappy", T0);
    start(Duration.ofMillis(800), Duration.ofHours(26), Duration.ofHours(1));
    TestProbe<AgentLink> conn = testKit.createTestProbe();
    connect(h, conn);

    CountDownLatch writer = stallWriter();
    now.addAndGet(1_000);
    conn.expectMessage(WAIT, AgentLink.Silent.INSTANCE);
    // The raise is queued behind the stalled write; the agent is back before it is stored.
    TestProbe<AgentLink> again = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.AgentConnected(hello(), again.getRef()));
    view(h);
    writer.countDown();
    await(db.flush());

    assertEquals(List.of(), openAlerts());
    awaitSample(s -> s.openAlertsByKind().isEmpty() && online(s) == 1);
  }

  // ------------------------------------------------------------------ backup_stale

  @Test
  void backupStaleIsRaisedAfterTheMaxAgeAndResolvedByASucceededBackup() throws Exception {
    HostRow h = enroll("lazy", T0);
    start(LONG, Duration.ofHours(26), Duration.ofMillis(50));
    connect(h, testKit.createTestProbe());

    now.set(T0 + Duration.ofHours(26).toMillis());
    awaitSample(s -> s.openAlertsByKind().equals(Map.of(AlertKind.BACKUP_STALE, 1)));
    assertEquals(AlertKind.BACKUP_STALE, openAlerts().get(0).kind());

    UUID job = UUID.randomUUID();
    startJob(h, job, JobKind.BACKUP, now.get());
    UUID failed = UUID.randomUUID();
    startJob(h, failed, JobKind.BACKUP, now.get());
    finishJob(h, failed, JobStatus.FAILED, now.get() + 1);
    assertEquals(Map.of(AlertKind.BACKUP_STALE, 1, AlertKind.BACKUP_FAILED, 1), sample().openAlertsByKind());
    finishJob(h, job, JobStatus.SUCCEEDED, now.get() + 2);
    assertEquals(Map.of(), sample().openAlertsByKind());
    assertEquals(List.of(), openAlerts());

    now.addAndGet(Duration.ofHours(26).toMillis() + 2);
    awaitSample(s -> s.openAlertsByKind().equals(Map.of(AlertKind.BACKUP_STALE, 1)));
  }

  @Test
  void aStaleAlertRaisedWhileTheResolvingBackupIsBeingStoredIsResolvedByTheNextCheck() throws Exception {
    HostRow h = enroll("racy", T0);
    start(LONG, Duration.ofHours(26), Duration.ofMillis(50));
    connect(h, testKit.createTestProbe());
    UUID job = UUID.randomUUID();
    startJob(h, job, JobKind.BACKUP, T0);

    CountDownLatch writer = stallWriter();
    TestProbe<HostEntity.JobReply> reply = testKit.createTestProbe();
    long end = T0 + Duration.ofHours(26).toMillis();
    entity(h.id()).tell(new HostEntity.FinishJob(end(job, JobStatus.SUCCEEDED, end), reply.getRef()));
    view(h);
    // The success is queued behind the stalled write; now a staleness check runs before it is stored.
    CountDownLatch reads = new CountDownLatch(3);
    clockReads = reads;
    now.set(end);
    assertTrue(reads.await(10, TimeUnit.SECONDS), "a staleness check ran");
    writer.countDown();
    assertEquals(HostEntity.JobReply.Outcome.STORED, reply.receiveMessage(WAIT).outcome());
    clockReads = null;
    await(db.flush());

    Await.until(WAIT, () -> openAlerts().isEmpty() && sample().openAlertsByKind().isEmpty());
  }

  @Test
  void aWarningBackupCountsAsASnapshotKeepingBackupStaleAwayButNotAsASuccess() throws Exception {
    HostRow h = enroll("partial", T0);
    start(LONG, Duration.ofHours(26), Duration.ofMillis(50));
    connect(h, testKit.createTestProbe());
    long warned = T0 + Duration.ofHours(25).toMillis();
    now.set(warned);
    UUID job = UUID.randomUUID();
    startJob(h, job, JobKind.BACKUP, warned - 1_000);
    finishJob(h, job, JobStatus.WARNING, warned);

    // Past 26 h from the enrolment, but not from the partial backup's snapshot.
    now.set(T0 + Duration.ofHours(26).toMillis() + 1_000);
    CountDownLatch reads = new CountDownLatch(3);
    clockReads = reads;
    assertTrue(reads.await(10, TimeUnit.SECONDS), "a staleness check ran");
    clockReads = null;
    await(db.flush());
    assertEquals(List.of(AlertKind.BACKUP_PARTIAL), openAlerts().stream().map(AlertRow::kind).toList());
    view(h);
    assertEquals(Map.of(AlertKind.BACKUP_PARTIAL, 1), sample().openAlertsByKind());
    HostSample s = host(sample(), "partial");
    assertEquals(warned, s.lastSnapshotEpochMillis());
    assertEquals(Map.of(), s.lastSuccessEpochMillis());
    assertEquals(Map.of(JobKind.BACKUP, warned), s.lastJobEpochMillis());

    now.set(warned + Duration.ofHours(26).toMillis());
    awaitSample(x -> x.openAlertsByKind().equals(Map.of(AlertKind.BACKUP_PARTIAL, 1, AlertKind.BACKUP_STALE, 1)));
    assertEquals("host partial has had no backup that made a snapshot for 26 h", openAlerts().stream()
        .filter(a -> a.kind() == AlertKind.BACKUP_STALE).findFirst().orElseThrow().message());
    // Another partial backup resolves the staleness; the partial alert stays open.
    UUID again = UUID.randomUUID();
    startJob(h, again, JobKind.BACKUP, now.get());
    finishJob(h, again, JobStatus.WARNING, now.get() + 1);
    assertEquals(Map.of(AlertKind.BACKUP_PARTIAL, 1), sample().openAlertsByKind());
  }

  @Test
  void backupPartialIsRaisedOnceByWarningsAndResolvedOnlyByASucceededBackup() {
    HostRow h = enroll("flaky", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    connect(h, testKit.createTestProbe());
    for (JobStatus status : List.of(JobStatus.WARNING, JobStatus.WARNING, JobStatus.FAILED)) {
      UUID job = UUID.randomUUID();
      startJob(h, job, JobKind.BACKUP, now.get());
      finishJob(h, job, status, now.addAndGet(1_000));
    }
    assertEquals(Map.of(AlertKind.BACKUP_PARTIAL, 1, AlertKind.BACKUP_FAILED, 1), sample().openAlertsByKind());
    AlertRow partial = openAlerts().stream().filter(a -> a.kind() == AlertKind.BACKUP_PARTIAL).findFirst().orElseThrow();
    assertEquals(T0 + 1_000, partial.raisedAt());
    assertEquals(T0 + 2_000, host(sample(), "flaky").lastSnapshotEpochMillis(), "a failed backup made no snapshot");

    UUID ok = UUID.randomUUID();
    startJob(h, ok, JobKind.BACKUP, now.get());
    finishJob(h, ok, JobStatus.SUCCEEDED, now.addAndGet(1_000));
    assertEquals(Map.of(), sample().openAlertsByKind());
    assertEquals(List.of(), openAlerts());
  }

  // ------------------------------------------------------------------ repository statistics

  @Test
  void repositoryStatsAreShownOnceStoredAndLoadedWhenTheEntityStartsAgain() throws Exception {
    HostRow h = enroll("stats", T0);
    enroll("old-agent", T0);
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    FleetSample before = awaitHosts(2);
    assertEquals(null, host(before, "stats").repository());

    // Stored before it is believed: nothing shows while the write waits.
    CountDownLatch writer = stallWriter();
    entity(h.id()).tell(new HostEntity.RecordRepositoryStats(T0 + 5_000, 12, 5_000_000L, 9_000_000L));
    view(h);
    assertSame(before, sample());
    writer.countDown();
    awaitSample(s -> host(s, "stats").repository() != null);
    assertEquals(new HostSample.Repository(12, 5_000_000L, 9_000_000L, T0 + 5_000), host(sample(), "stats").repository());

    entity(h.id()).tell(new HostEntity.RecordRepositoryStats(T0 + 6_000, 13, 5_100_000L, null));
    awaitSample(s -> host(s, "stats").repository().snapshots() == 13);
    HostSample.Repository latest = new HostSample.Repository(13, 5_100_000L, -1, T0 + 6_000);
    assertEquals(latest, host(sample(), "stats").repository());
    assertEquals(null, host(sample(), "old-agent").repository(), "a host whose agent never sent any has none");
    String text = exposition(sample());
    assertTrue(text.contains("restic_manager_host_snapshots{host=\"stats\"} 13\n"), text);
    for (String family : List.of("snapshots", "repository_size_bytes", "repository_uncompressed_size_bytes",
        "repository_stats_timestamp_seconds")) {
      assertFalse(text.contains("restic_manager_host_" + family + "{host=\"old-agent\"}"), family);
    }

    stopAll();
    start(LONG, Duration.ofHours(26), Duration.ofHours(1));
    assertEquals(latest, host(awaitHosts(2), "stats").repository());
  }

  // ------------------------------------------------------------------ helpers

  /** The node's view and one entity per stored host, as the keeper starts them. */
  private void start(Duration offlineAfter, Duration backupMaxAge, Duration checkInterval) {
    Settings.Agents agents = new Settings.Agents(Duration.ofSeconds(10), offlineAfter,
        offlineAfter.dividedBy(2), 1 << 20, Duration.ofHours(1), Duration.ofSeconds(30));
    Settings.Alerts rules = new Settings.Alerts(backupMaxAge, checkInterval);
    view = testKit.spawn(NodeHosts.create(hosts));
    deps = new HostEntity.Deps(agents, rules, hosts, jobs, alerts, view, () -> {
      CountDownLatch l = clockReads;
      if (l != null) l.countDown();
      return now.get();
    });
    for (String id : await(hosts.ids())) entity(id).tell(HostEntity.Wake.INSTANCE);
  }

  /** The host's entity behind a {@link TestShard}, which starts it anew after it passivates. */
  private ActorRef<HostEntity.Command> entity(String hostId) {
    return entities.computeIfAbsent(hostId,
        id -> testKit.spawn(TestShard.of(shard -> HostEntity.create(id, deps, shard))));
  }

  private void stopAll() {
    entities.values().forEach(testKit::stop);
    entities.clear();
    if (view != null) testKit.stop(view);
    view = null;
  }

  private HostRow enroll(String name, long at) {
    HostStore.EnrollmentToken t = await(hosts.createEnrollmentToken(at, 3_600_000));
    HostStore.EnrollOutcome o = await(hosts.enroll(t.token(), name, UUID.randomUUID().toString(), at));
    return assertInstanceOf(HostStore.Enrolled.class, o).host();
  }

  private static HostEntity.AgentHello hello() {
    return new HostEntity.AgentHello("agent-9", "0.17.0", "linux");
  }

  /** Connects and waits until the entity has taken it in, so the test clock can move on. */
  private void connect(HostRow h, TestProbe<AgentLink> conn) {
    entity(h.id()).tell(new HostEntity.AgentConnected(hello(), conn.getRef()));
    view(h);
  }

  private HostEntity.JobReply.Outcome startJob(HostRow h, UUID job, JobKind kind, long at) {
    TestProbe<HostEntity.JobReply> reply = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.StartJob(new HostEntity.JobStart(job, kind, at), reply.getRef()));
    HostEntity.JobReply r = reply.receiveMessage(WAIT);
    assertEquals(job, r.jobId());
    assertEquals("job.started", r.of());
    return r.outcome();
  }

  private static HostEntity.JobEnd end(UUID job, JobStatus status, long at) {
    return new HostEntity.JobEnd(job, status, at, status == JobStatus.FAILED ? 1 : 0, null,
        "{\"data_added\":4321}", 4321L);
  }

  private HostEntity.JobReply finish(HostRow h, UUID job, JobStatus status, long at) {
    TestProbe<HostEntity.JobReply> reply = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.FinishJob(end(job, status, at), reply.getRef()));
    HostEntity.JobReply r = reply.receiveMessage(WAIT);
    assertEquals(job, r.jobId());
    assertEquals("job.finished", r.of());
    return r;
  }

  private HostEntity.JobReply.Outcome finishJob(HostRow h, UUID job, JobStatus status, long at) {
    return finish(h, job, status, at).outcome();
  }

  private HostEntity.Removed remove(String hostId) {
    TestProbe<HostEntity.Removed> reply = testKit.createTestProbe();
    entity(hostId).tell(new HostEntity.Remove(reply.getRef()));
    return reply.receiveMessage(WAIT);
  }

  private HostEntity.RunJobReply runJob(String hostId, JobKind kind) {
    TestProbe<HostEntity.RunJobReply> reply = testKit.createTestProbe();
    entity(hostId).tell(new HostEntity.RunJob(kind, null, reply.getRef()));
    return reply.receiveMessage(WAIT);
  }

  /** The host as its entity shows it; also waits until the entity has handled what was sent before. */
  private HostView view(HostRow h) {
    TestProbe<HostEntity.HostReply> reply = testKit.createTestProbe();
    entity(h.id()).tell(new HostEntity.GetHost(reply.getRef()));
    return assertInstanceOf(HostView.class, reply.receiveMessage(WAIT));
  }

  private FleetSample sample() {
    TestProbe<FleetSample> reply = testKit.createTestProbe();
    view.tell(new NodeHosts.GetSample(reply.getRef()));
    return reply.receiveMessage(WAIT);
  }

  /** Once every entity has loaded, the view shows {@code n} hosts. */
  private FleetSample awaitHosts(int n) {
    try {
      return Await.until(WAIT, this::sample, x -> x.hosts().size() == n);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private void awaitSample(Predicate<FleetSample> p) throws Exception {
    Await.until(WAIT, this::sample, p);
  }

  private List<AlertRow> openAlerts() {
    return await(alerts.list(AlertStore.Filter.OPEN, 100, java.util.Optional.empty())).rows();
  }
  /** Holds the store's single writer until the returned latch is counted down. */
  private CountDownLatch stallWriter() throws InterruptedException {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    db.write(c -> {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    });
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    return release;
  }

  private static <T> T await(CompletionStage<T> s) {
    try {
      return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
