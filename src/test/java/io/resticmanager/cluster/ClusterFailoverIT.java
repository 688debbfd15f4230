package io.resticmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agent.Agent;
import io.resticmanager.agent.AgentSettings;
import io.resticmanager.config.Settings;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.support.Await;
import io.resticmanager.support.ClusterNodes;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.Json;
import io.resticmanager.support.ResticRepo;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.StreamingAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes on loopback and the machine's PostgreSQL, as child JVMs, under agents spread over them
 * (issue 13, item 7): a node killed with SIGKILL while they stream, a rolling restart, and a host whose agent
 * never connects. Streaming agents keep what is not acked in an outbox and resend it after reconnecting
 * to a random node; one host runs the real agent with real restic and every node's URL.
 */
class ClusterFailoverIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Duration HEAL = Duration.ofSeconds(35);
  private static final int STREAMING = 30;
  private static final int IDLE = 5;
  private static final int WINDOW = 8;
  /** What the real agent heartbeats: idle agents do the same. */
  private static final Duration HEARTBEAT = Duration.ofSeconds(30);
  /** Each streaming agent starts a job this often, so that no host has more jobs than the jobs API lists. */
  private static final Duration PACE = Duration.ofMillis(150);

  @TempDir Path dir;
  private Settings.Db pg;

  @AfterEach
  void dropSchema() {
    if (pg != null) TestDatabases.dropPostgresSchema(pg);
  }

  @Test
  void killNineOfTheOldestNodeUnderLoadLosesNoAckedEventAndEveryHostIsOnlineAgainWithin35s() throws Exception {
    Map<String, String> pg = freshPostgres();
    List<StreamingAgent> agents = new ArrayList<>();
    Agent real = null;
    try (ClusterNodes c = ClusterNodes.start(dir.resolve("cluster"), 3, pg, "", Map.of())) {
      Map<String, StreamingAgent> byHost = new HashMap<>();
      for (int i = 0; i < STREAMING + IDLE; i++) {
        String name = "agent-" + i;
        TestServer.Enrolled e = c.api(i % 3).enroll(name);
        StreamingAgent a = new StreamingAgent(name, e.agentToken(), c.anyWsUri(i), WINDOW, i)
            .heartbeatEvery(HEARTBEAT).jobEvery(PACE);
        a.pause(i >= STREAMING);
        a.gate(true);
        agents.add(a);
        byHost.put(e.hostId(), a);
      }
      RealAgent r = realAgent(c);
      real = r.agent();
      Set<String> names = new HashSet<>();
      agents.forEach(a -> names.add(a.hostname()));
      names.add("real-agent");
      assertTrue(real.runNow(JobKind.BACKUP));

      Await.until(WAIT, () -> everyNodeShowsOnline(c, names));
      long[] before = agents.stream().mapToLong(StreamingAgent::acks).toArray();
      Await.until(WAIT, () -> agents.subList(0, STREAMING).stream()
          .allMatch(a -> a.acks() >= before[agents.indexOf(a)] + 10));
      Await.until(WAIT, () -> succeededBackups(c.api(1), r.hostId()) == 1);
      Set<Integer> spread = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        if (c.api(i).metrics().named("restic_manager_host_online").size() > 0) spread.add(i);
      }
      assertEquals(3, spread.size(), "the hosts' entities are spread over the three nodes");

      // Node 0 is the oldest: it runs the shard coordinator too.
      long countedByTheKilledNode = ServerApi.histogramCount(c.api(0).metrics());
      long killedAt = System.nanoTime();
      c.kill9(0);

      Await.until(WAIT, () -> everyNodeShowsOnline(c, names));
      Duration healed = Duration.ofNanos(System.nanoTime() - killedAt);
      System.out.printf("ClusterFailoverIT: every host online again on the surviving nodes %d ms after kill -9%n",
          healed.toMillis());
      assertTrue(healed.compareTo(HEAL) <= 0, "every host online again within " + HEAL + ", took " + healed);

      // The real agent's next backup is stored through whichever node it reaches now.
      assertTrue(real.runNow(JobKind.BACKUP));
      Await.until(WAIT, () -> succeededBackups(c.api(1), r.hostId()) == 2);

      // Quiet: everything sent is stored and acked.
      long[] after = agents.stream().mapToLong(StreamingAgent::acks).toArray();
      Await.until(WAIT, () -> agents.subList(0, STREAMING).stream()
          .allMatch(a -> a.acks() >= after[agents.indexOf(a)] + 10));
      agents.forEach(a -> a.pause(true));
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.outboxSize() == 0 && a.isConnected()));

      long finished = 0;
      for (Map.Entry<String, StreamingAgent> e : byHost.entrySet()) {
        List<Map<String, Object>> jobs = c.api(2).jobs(e.getKey());
        e.getValue().checkStored(jobs, "");
        finished += jobs.stream().filter(j -> !"running".equals(j.get("status"))).count();
        assertEquals(List.of(), e.getValue().errors(), "no error frames");
      }
      finished += succeededBackups(c.api(2), r.hostId());
      long countedBySurvivors = ServerApi.histogramCount(c.api(1).metrics())
          + ServerApi.histogramCount(c.api(2).metrics());
      // Each job is counted once, on the node whose socket first had it stored, or not at all when that
      // node died before its reply arrived; a resend is never counted again.
      assertTrue(countedByTheKilledNode + countedBySurvivors <= finished,
          countedByTheKilledNode + " + " + countedBySurvivors + " counted, " + finished + " finished");
      assertTrue(countedBySurvivors > 0, "the survivors counted the jobs finished after the kill");
    } finally {
      agents.forEach(StreamingAgent::close);
      if (real != null) real.close();
    }
  }

  @Test
  void aRollingRestartUnderLoadLosesNoAckedEventAndStoresNoJobTwice() throws Exception {
    Map<String, String> pg = freshPostgres();
    List<StreamingAgent> agents = new ArrayList<>();
    try (ClusterNodes c = ClusterNodes.start(dir.resolve("cluster"), 3, pg, "", Map.of())) {
      Map<String, StreamingAgent> byHost = new HashMap<>();
      for (int i = 0; i < 12; i++) {
        TestServer.Enrolled e = c.api(i % 3).enroll("rolling-" + i);
        StreamingAgent a = new StreamingAgent("rolling-" + i, e.agentToken(), c.anyWsUri(100 + i), WINDOW, 100 + i)
            .jobEvery(PACE);
        a.gate(true);
        agents.add(a);
        byHost.put(e.hostId(), a);
      }
      for (int node = 0; node < 3; node++) {
        long[] before = agents.stream().mapToLong(StreamingAgent::acks).toArray();
        Await.until(WAIT, () -> agents.stream().allMatch(a -> a.acks() >= before[agents.indexOf(a)] + 10));
        assertEquals(0, c.stop(node), "node " + node + " stops cleanly");
        long[] during = agents.stream().mapToLong(StreamingAgent::acks).toArray();
        Await.until(WAIT, () -> agents.stream().allMatch(a -> a.acks() >= during[agents.indexOf(a)] + 5));
        c.restart(node);
        c.awaitMembersUp(3);
      }
      agents.forEach(a -> a.pause(true));
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.outboxSize() == 0 && a.isConnected()));
      for (Map.Entry<String, StreamingAgent> e : byHost.entrySet()) {
        e.getValue().checkStored(c.api(1).jobs(e.getKey()), "");
        assertEquals(List.of(), e.getValue().errors(), "no error frames");
        assertTrue(e.getValue().closeCodes().contains(1001), "agents of stopping nodes got 1001");
      }
    } finally {
      agents.forEach(StreamingAgent::close);
    }
  }

  @Test
  void aHostWhoseAgentNeverConnectsIsAlertedOnceAndStillAfterItsNodeIsKilled() throws Exception {
    Map<String, String> pg = freshPostgres();
    String fast = """
        restic-manager.agents { offline-after = 3s, heartbeat-interval = 1s }
        restic-manager.alerts { backup-max-age = 5s, check-interval = 500ms }
        """;
    try (ClusterNodes c = ClusterNodes.start(dir.resolve("cluster"), 3, pg, fast, Map.of())) {
      String host = c.api(1).enroll("never-connects").hostId();
      Await.until(WAIT, () -> alertKinds(c.api(2), host).size() == 2);
      assertEquals(List.of("agent_offline", "backup_stale"), alertKinds(c.api(2), host));
      int runner = nodeRunning(c, "never-connects");

      c.kill9(runner);
      int other = c.live().get(0);
      Await.until(WAIT, () -> {
        int n = nodeRunning(c, "never-connects");
        return n >= 0 && n != runner
            && c.api(n).metrics().one("restic_manager_host_open_alerts", Map.of("host", "never-connects"))
                .number() == 2;
      });
      // The entity's new incarnation has judged both deadlines again (several checks): nothing more raised.
      Exposition m = c.api(nodeRunning(c, "never-connects")).metrics();
      assertEquals(1, m.one("restic_manager_alerts_open", Map.of("kind", "agent_offline", "severity", "warning"))
          .number());
      assertEquals(List.of("agent_offline", "backup_stale"), alertKinds(c.api(other), host));
    }
  }

  @Test
  void aNodeCutOffLongerThanTheResolverWaitsIsDownedAndExitsOneWhileTheOthersCarryOn() throws Exception {
    Map<String, String> pg = freshPostgres();
    try (ClusterNodes c = ClusterNodes.start(dir.resolve("cluster"), 3, pg, "", Map.of())) {
      String host = c.api(0).enroll("survivor-host").hostId();
      c.freeze(2, true);
      // The majority sees it unreachable, then downs and removes it.
      Await.until(WAIT, () -> c.api(0).metrics().one("restic_manager_cluster_members", Map.of("status", "up"))
          .number() == 2 && c.api(1).metrics().one("restic_manager_cluster_members", Map.of("status", "unreachable"))
          .number() == 0);
      c.freeze(2, false);
      assertEquals(1, c.exitCode(2), "a downed node exits 1 so that its service manager starts it again");
      assertTrue(c.output(2).contains("Stopped without being asked to"), c.output(2));
      // A host whose entity ran on the downed node answers 503 until that node is removed and the entity
      // has started elsewhere (docs/cluster.md, Limits); then the survivors answer for it.
      HttpResponse<String> got = Await.until(WAIT, () -> c.api(1).get("/api/v1/hosts/" + host, ClusterNodes.ADMIN),
          r -> r.statusCode() != 503);
      assertEquals(200, got.statusCode(), got.body());
      assertEquals("survivor-host", Json.str(Json.object(got.body()), "name"));
      c.restart(2);
      c.awaitMembersUp(3);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private Map<String, String> freshPostgres() {
    pg = TestDatabases.freshPostgresSchema();
    return Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user());
  }

  private record RealAgent(Agent agent, String hostId) {}

  /** The real agent with real restic, given every node's URL; enrolled through node 2. */
  private RealAgent realAgent(ClusterNodes c) throws Exception {
    Map<String, String> env = ResticRepo.init(dir).env();
    Path data = Files.createDirectories(dir.resolve("sample"));
    Files.writeString(data.resolve("a.txt"), "hello restic\n");
    String token = TestServer.field(c.api(2).send("POST", "/api/v1/enrollment-tokens", ClusterNodes.ADMIN, "{}").body(),
        "token");
    Path conf = dir.resolve("agent.conf");
    Files.writeString(conf, """
        restic-manager.agent.schedules.backup.interval = 0s
        restic-manager.agent.schedules.check.interval = 0s
        restic-manager.agent.reconnect { min-backoff = 200ms, max-backoff = 1s }
        """);
    env.put("RM_SERVER_URL", String.join(",", c.baseUrls()));
    env.put("RM_ENROLLMENT_TOKEN", token);
    env.put("RM_HOSTNAME", "real-agent");
    env.put("RM_BACKUP_PATHS", data.toString());
    env.put("RM_DATA_DIR", dir.resolve("agent").toString());
    Agent agent = Agent.start(AgentSettings.load(Optional.of(conf), env), env, new CountDownLatch(1));
    String hostId = null;
    for (Map<String, Object> h : c.api(2).hosts()) {
      if ("real-agent".equals(h.get("name"))) hostId = Json.str(h, "id");
    }
    return new RealAgent(agent, hostId);
  }

  /** Every running node's host list shows each of {@code names} online, and some node's /metrics does too. */
  private static boolean everyNodeShowsOnline(ClusterNodes c, Set<String> names) throws Exception {
    Set<String> inMetrics = new HashSet<>();
    for (int i : c.live()) {
      Set<String> online = new HashSet<>();
      for (Map<String, Object> h : c.api(i).hosts()) {
        if (Boolean.TRUE.equals(h.get("online"))) online.add(Json.str(h, "name"));
      }
      if (!online.containsAll(names)) return false;
      for (Exposition.Sample s : c.api(i).metrics().named("restic_manager_host_online")) {
        if (s.number() == 1) inMetrics.add(s.label("host"));
      }
    }
    return inMetrics.containsAll(names);
  }

  /** The node whose /metrics shows the host's rows (its entity runs there), or -1. */
  private static int nodeRunning(ClusterNodes c, String name) throws Exception {
    for (int i : c.live()) {
      for (Exposition.Sample s : c.api(i).metrics().named("restic_manager_host_online")) {
        if (name.equals(s.label("host"))) return i;
      }
    }
    return -1;
  }

  private static long succeededBackups(ServerApi api, String hostId) throws Exception {
    return api.jobs(hostId).stream().filter(j -> "succeeded".equals(j.get("status"))).count();
  }

  /** Every alert ever raised for the host (open or resolved), by kind, sorted. */
  private static List<String> alertKinds(ServerApi api, String hostId) throws Exception {
    List<String> out = new ArrayList<>();
    for (Map<String, Object> a : Json.objects(api.admin("/api/v1/alerts?status=all"))) {
      if (hostId.equals(a.get("host_id"))) {
        assertEquals("open", a.get("status"), a.toString());
        out.add(Json.str(a, "kind"));
      }
    }
    out.sort(null);
    return out;
  }


}
