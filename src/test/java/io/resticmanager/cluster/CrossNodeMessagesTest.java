package io.resticmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.resticmanager.config.SettingsLoader;
import io.resticmanager.fleet.AgentLink;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.fleet.HostStatus;
import io.resticmanager.fleet.HostView;
import io.resticmanager.fleet.NodeHosts;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.HostStore;
import io.resticmanager.support.TestDatabases;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every message that may cross nodes is serialized by the Jackson CBOR serializer the server's own
 * configuration binds to {@link CborSerializable} (never Java serialization) and comes back equal,
 * actor references included.
 */
class CrossNodeMessagesTest {
  @TempDir static Path dir;
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    // The server's merged configuration, as Server.start gives it to the actor system.
    var loaded = SettingsLoader.load(Optional.empty(), Map.of("RM_DATA_DIR", dir.toString()));
    testKit = ActorTestKit.create("CrossNodeMessagesTest",
        ClusterConfig.overlay(loaded.settings().cluster()).withFallback(loaded.config()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyCrossNodeMessageRoundTripsThroughJacksonCbor() {
    TestProbe<Object> probe = testKit.createTestProbe();
    UUID job = UUID.randomUUID();
    String host = UUID.randomUUID().toString();
    HostView view = new HostView(host, "web-1", true, 1_700_000_000_123L, "agent-9", "0.17.0", "linux",
        1_690_000_000_000L);
    AlertRow alert = new AlertRow(UUID.randomUUID().toString(), host, AlertKind.BACKUP_FAILED, true,
        1_700_000_000_000L, 0, 0, "backup of host web-1 failed (exit code 1)");
    RestoreSpec restore = new RestoreSpec("a1b2c3d4", "/srv/restore", List.of("/etc/nginx", "/home/a b"));
    List<Object> messages = List.of(
        HostEntity.Wake.INSTANCE,
        HostEntity.HandOff.INSTANCE,
        new HostEntity.AgentConnected(new HostEntity.AgentHello("agent-9", "0.17.0", "linux"),
            probe.getRef().unsafeUpcast()),
        new HostEntity.AgentDisconnected(probe.getRef().unsafeUpcast()),
        new HostEntity.AgentSeen(probe.getRef().unsafeUpcast()),
        new HostEntity.StartJob(new HostEntity.JobStart(job, JobKind.BACKUP, 1_700_000_000_000L),
            probe.getRef().unsafeUpcast()),
        new HostEntity.FinishJob(new HostEntity.JobEnd(job, JobStatus.WARNING, 1_700_000_100_000L, 3,
            "could not read /x", "{\"data_added\":7}", 7L), probe.getRef().unsafeUpcast()),
        new HostEntity.FinishJob(new HostEntity.JobEnd(job, JobStatus.FAILED, 1_700_000_100_000L, 1, null, null, null),
            probe.getRef().unsafeUpcast()),
        new HostEntity.RunJob(JobKind.PRUNE, null, probe.getRef().unsafeUpcast()),
        new HostEntity.RunJob(JobKind.RESTORE, restore, probe.getRef().unsafeUpcast()),
        new HostEntity.RecordRepositoryStats(1_700_000_000_000L, 48, 5_368_709_120L, 8_589_934_592L),
        new HostEntity.RecordRepositoryStats(1_700_000_000_000L, 0, 0, null),
        new HostEntity.Remove(probe.getRef().unsafeUpcast()),
        new HostEntity.AlertAcknowledged(alert),
        new HostEntity.GetHost(probe.getRef().unsafeUpcast()),
        new HostEntity.JobReply(job, "job.finished", HostEntity.JobReply.Outcome.STORED,
            new HostEntity.Recorded(JobKind.BACKUP, JobStatus.SUCCEEDED, 42.5)),
        new HostEntity.JobReply(job, "job.started", HostEntity.JobReply.Outcome.CONFLICT, null),
        new HostEntity.JobSent(job),
        HostEntity.HostOffline.INSTANCE,
        HostEntity.NoSuchHost.INSTANCE,
        new HostEntity.Removed(true),
        view,
        AgentLink.Replaced.INSTANCE,
        AgentLink.Revoked.INSTANCE,
        AgentLink.Silent.INSTANCE,
        new AgentLink.RunJob(job, JobKind.CHECK, null),
        new AgentLink.RunJob(job, JobKind.RESTORE, restore),
        new AgentLink.Locate(host),
        new NodeHosts.ListLive("", probe.getRef().unsafeUpcast()),
        new NodeHosts.ListLive(host, probe.getRef().unsafeUpcast()),
        new NodeHosts.LiveHosts(List.of(new NodeHosts.Live(host, true, 1L, "a", "r", "o"),
            new NodeHosts.Live(UUID.randomUUID().toString(), false, 0L, "", "", "")), true),
        new NodeHosts.Put(view, new HostSample("web-1", true, 1L, Map.of(JobKind.BACKUP, 2L), Map.of(), 3, 1,
            "a", "r", "o"), Set.of(AlertKind.AGENT_OFFLINE)),
        new NodeHosts.Put(view, new HostSample("web-1", true, 1L, Map.of(JobKind.BACKUP, 2L), Map.of(), 3, 1,
            "a", "r", "o", 2L, new HostSample.Repository(48, 5_368_709_120L, -1, 4L)), Set.of(AlertKind.BACKUP_PARTIAL)),
        new NodeHosts.ListStatus("", true, probe.getRef().unsafeUpcast()),
        new NodeHosts.HostStatuses(List.of(new HostStatus(host, "web-1", true, true, 1L, "a", "r", "o", 2L,
            Map.of(JobKind.BACKUP, 3L, JobKind.CHECK, 4L), Map.of(JobKind.CHECK, 4L), 3L, 7L, 48L, 5_368_709_120L, 1),
            HostStatus.stored(new io.resticmanager.store.HostRow(host, "db-1", 1L, 0L, "", "", ""))), false),
        new NodeHosts.Gone(host));
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    var ext = SerializationExtension.get(testKit.system().classicSystem());
    for (Object m : messages) {
      assertInstanceOf(JacksonCborSerializer.class, ext.findSerializerFor(m), m.getClass().getName());
      assertEquals(m, serialization.verifySerialization(m, true), m.getClass().getName());
    }
  }

  @Test
  void aFullPageOfAViewsHostsFitsArterysFrameWhateverTheAgentsWrote() throws Exception {
    // The longest versions and os the store keeps, in 4-byte characters; a view of 3,000 such hosts.
    TestProbe<NodeHosts.LiveHosts> reply = testKit.createTestProbe();
    var db = TestDatabases.open(TestDatabases.sqlite(dir));
    var view = testKit.spawn(NodeHosts.create(new HostStore(db)));
    String wide = "\uD83D\uDE00";
    for (int i = 0; i < 3_000; i++) {
      HostView v = new HostView(UUID.randomUUID().toString(), "host-" + i, true, Long.MAX_VALUE, wide.repeat(100),
          wide.repeat(100), wide.repeat(200), 0);
      view.tell(new NodeHosts.Put(v, new HostSample(v.name(), true, 1L, Map.of(), Map.of(), -1, 0, "", "", ""), Set.of()));
    }
    view.tell(new NodeHosts.ListLive("", reply.getRef()));
    NodeHosts.LiveHosts m = reply.receiveMessage();
    org.junit.jupiter.api.Assertions.assertTrue(m.more() && m.hosts().size() > 10, m.hosts().size() + " hosts");
    var ext = SerializationExtension.get(testKit.system().classicSystem());
    int bytes = ext.serialize(m).get().length;
    long frame = testKit.system().settings().config().getBytes("pekko.remote.artery.advanced.maximum-frame-size");
    // Room for Artery's envelope, the sender and the recipient's path.
    org.junit.jupiter.api.Assertions.assertTrue(bytes < frame - 16 * 1024, bytes + " bytes in a frame of " + frame);
    // the status page's pages of the same view
    TestProbe<NodeHosts.HostStatuses> statuses = testKit.createTestProbe();
    view.tell(new NodeHosts.ListStatus("", true, statuses.getRef()));
    NodeHosts.HostStatuses s = statuses.receiveMessage();
    org.junit.jupiter.api.Assertions.assertTrue(s.more() && s.hosts().size() > 10, s.hosts().size() + " hosts");
    int statusBytes = ext.serialize(s).get().length;
    org.junit.jupiter.api.Assertions.assertTrue(statusBytes < frame - 16 * 1024, statusBytes + " bytes in a frame of "
        + frame);
    testKit.stop(view);
    db.close();
  }
}
