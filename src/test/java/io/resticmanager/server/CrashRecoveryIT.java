package io.resticmanager.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.support.Await;
import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.Json;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.StreamingAgent;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a real server process while agents stream job events, many times in one run, on SQLite
 * and on PostgreSQL (issue 8, item 1). Each agent keeps its unacked events in an outbox and resends them
 * after reconnecting. Every server life is checked at a quiet moment (agents paused, outboxes empty):
 * <ul>
 *   <li>the database reopened (the child listens again) with every host and the fixed open alerts;</li>
 *   <li>every event ever acked is in the jobs API, no job id is listed twice, every sent job is there;</li>
 *   <li>the histogram's _count equals the finished jobs stored during this life: it restarted at zero,
 *       and the resends of events stored but not acked before the kill were not counted again;</li>
 *   <li>each host's open alerts are exactly what the last finish of each kind calls for.</li>
 * </ul>
 * Then the agents stream again and the server is killed mid-stream. Cycle counts default to 20 (SQLite)
 * and 4 (PostgreSQL); the soak of docs/operations.md raises them with {@code -Drm.crash.cycles=N} and
 * {@code -Drm.crash.pg-cycles=N}.
 */
class CrashRecoveryIT {
  private static final String ADMIN = "crash-admin-token-0123456789";
  private static final String METRICS = "crash-metrics-token-0123456789";
  private static final String DB_PASSWORD = "crash-db-password-0123456789";
  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int AGENTS = 3;
  private static final int WINDOW = 24;
  private static final int ROTATE_AFTER_JOBS = 600;
  private static final Map<String, String> ALERT_OF_KIND =
      Map.of("backup", "backup_failed", "check", "check_failed", "forget", "forget_failed", "prune", "prune_failed");

  @TempDir Path dir;

  @Test
  void killNineWhileAgentsStreamLosesNoAckedEventAndCountsNothingTwiceOnSqlite() throws Exception {
    run(Map.of(), Integer.getInteger("rm.crash.cycles", 20));
  }

  @Test
  void killNineWhileAgentsStreamLosesNoAckedEventAndCountsNothingTwiceOnPostgres() throws Exception {
    Settings.Db pg = TestDatabases.freshPostgresSchema();
    try {
      // Trust authentication ignores the password; it is set to prove it never reaches the log.
      run(Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user(), "RM_DB_PASSWORD", DB_PASSWORD),
          Integer.getInteger("rm.crash.pg-cycles", 4));
    } finally {
      TestDatabases.dropPostgresSchema(pg);
    }
  }

  private void run(Map<String, String> dbEnv, int cycles) throws Exception {
    int port = TestServer.freePort();
    Map<String, String> env = new HashMap<>(dbEnv);
    env.put("RM_DATA_DIR", dir.resolve("data").toString());
    env.put("RM_HTTP_PORT", Integer.toString(port));
    env.put("RM_ADMIN_TOKEN", ADMIN);
    env.put("RM_METRICS_TOKEN", METRICS);
    ServerApi api = new ServerApi(port, ADMIN, METRICS);
    List<ChildProcess> lives = new ArrayList<>();
    List<StreamingAgent> agents = new ArrayList<>(); // the current generation
    Map<String, StreamingAgent> agentOf = new HashMap<>(); // every generation, by host id
    int killsWithUnackedEvents = 0;
    try {
      ChildProcess server = start(env, lives);
      Map<String, String> hosts = new TreeMap<>(); // id -> name
      Set<String> fixedAlerts = fixedAlerts(api, hosts);
      newGeneration(api, hosts, agents, agentOf, cycles);

      // Finished jobs of hosts that no longer change: the fixed-alerts host, retired agent generations.
      long frozenFinished = 2;
      for (int cycle = 0; cycle <= cycles; cycle++) {
        if (cycle > 0) server = start(env, lives);
        String at = "cycle " + cycle;
        boolean last = cycle == cycles;
        // Before any agent reconnects: what the last life left behind.
        assertEquals(hosts, hostsById(api), at + ": every host is still enrolled");
        assertEquals(fixedAlerts, openAlertIds(api, fixedAlertHost(hosts)), at + ": the open alerts are intact");
        long finishedBefore = frozenFinished + finishedJobs(api, active(agentOf, agents));
        // The histogram starts at zero with each process; only the first life has counted (two) jobs yet.
        long lifeBase = cycle == 0 ? 0 : finishedBefore;
        assertEquals(finishedBefore - lifeBase, ServerApi.histogramCount(api.metrics()),
            at + ": the histogram restarts at zero");

        // Reconnect: every agent resends its outbox, then streams new jobs.
        long[] acksBefore = agents.stream().mapToLong(StreamingAgent::acks).toArray();
        agents.forEach(a -> a.gate(true));
        if (!last) {
          Await.until(WAIT, () -> allAckedMore(agents, acksBefore, 10));
        }
        agents.forEach(a -> a.pause(true));
        Await.until(WAIT, () -> agents.stream().allMatch(a -> a.outboxSize() == 0 && a.isConnected()));

        // Quiet: everything sent is stored and acked. (Retired hosts are checked again at the end.)
        long finishedNow = frozenFinished;
        for (Map.Entry<String, StreamingAgent> e : agentOf.entrySet()) {
          if (!last && !agents.contains(e.getValue())) continue;
          List<Map<String, Object>> jobs = api.jobs(e.getKey());
          e.getValue().checkStored(jobs, at + ": ");
          if (agents.contains(e.getValue())) {
            finishedNow += jobs.stream().filter(j -> !"running".equals(j.get("status"))).count();
          }
        }
        assertEquals(finishedNow - lifeBase, ServerApi.histogramCount(api.metrics()),
            at + ": the histogram counts each job finished in this life once, resends included");
        Map<String, Set<String>> open = openAlertKinds(api);
        for (Map.Entry<String, StreamingAgent> e : agentOf.entrySet()) {
          assertEquals(expectedAlerts(e.getValue()), open.getOrDefault(e.getKey(), Set.of()),
              at + ": open alerts of " + e.getValue().hostname());
        }
        for (StreamingAgent a : agents) assertEquals(List.of(), a.errors(), at + ": no error frames");
        if (last) break;
        if (agents.stream().anyMatch(a -> a.sentJobs().size() > ROTATE_AFTER_JOBS)) {
          // The jobs API lists at most 1000 jobs of a host, so hosts are retired before they have that many.
          frozenFinished += agents.stream().mapToLong(a -> a.sentJobs().size()).sum();
          agents.forEach(StreamingAgent::close);
          agents.clear();
          newGeneration(api, hosts, agents, agentOf, cycles);
          agents.forEach(a -> a.gate(true));
        }

        // Stream again and kill the server in the middle of it.
        long[] resumed = agents.stream().mapToLong(StreamingAgent::acks).toArray();
        agents.forEach(a -> a.pause(false));
        int more = 4 + (cycle * 7) % 20;
        Await.until(WAIT, () -> allAckedMore(agents, resumed, more));
        server.kill9(WAIT);
        agents.forEach(a -> a.gate(false));
        Await.until(WAIT, () -> agents.stream().noneMatch(StreamingAgent::isConnected));
        if (agents.stream().anyMatch(a -> a.outboxSize() > 0)) killsWithUnackedEvents++;
      }
      assertTrue(killsWithUnackedEvents > 0, "some kill struck while events were in flight, so resends happened");
      long acked = agentOf.values().stream().mapToLong(a -> a.ackedEvents().size()).sum();
      System.out.printf("CrashRecoveryIT: %d kills (%d with events in flight), %d events acked and found, %d hosts%n",
          cycles, killsWithUnackedEvents, acked, agentOf.size());

      server.sigterm();
      assertEquals(0, server.waitFor(START), server.outputText());
      for (ChildProcess life : lives) {
        String log = life.outputText();
        assertFalse(log.contains(DB_PASSWORD), "the database password is never logged");
        assertFalse(log.contains(ADMIN) || log.contains(METRICS), "no token is logged");
      }
    } finally {
      agentOf.values().forEach(StreamingAgent::close);
      lives.forEach(ChildProcess::close);
    }
  }

  /** Enrolls {@link #AGENTS} new hosts and starts an agent for each, its gate still closed. */
  private static void newGeneration(ServerApi api, Map<String, String> hosts, List<StreamingAgent> agents,
      Map<String, StreamingAgent> agentOf, int seed) throws Exception {
    for (int i = 0; i < AGENTS; i++) {
      String name = "crash-agent-" + agentOf.size();
      TestServer.Enrolled e = api.enroll(name);
      hosts.put(e.hostId(), name);
      StreamingAgent a = new StreamingAgent(name, e.agentToken(), api::wsUri, WINDOW, 1000L * agentOf.size() + seed);
      agents.add(a);
      agentOf.put(e.hostId(), a);
    }
  }

  private ChildProcess start(Map<String, String> env, List<ChildProcess> lives) throws Exception {
    ChildProcess p = ChildProcess.start(dir, env, ChildProcess.FAST_START, "serve");
    lives.add(p);
    p.awaitOutput("Listening on", START);
    return p;
  }

  /** A host that has a failed backup and a failed check behind it: two open alerts that must survive. */
  private static Set<String> fixedAlerts(ServerApi api, Map<String, String> hosts) throws Exception {
    String name = "crash-fixed-alerts";
    TestServer.Enrolled e = api.enroll(name);
    hosts.put(e.hostId(), name);
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    try (TestAgent a = TestAgent.connectAndHello(api.wsUri(), e.agentToken(), name)) {
      a.runJob(UUID.randomUUID(), "backup", "failed", t, t.plusSeconds(10), 0);
      a.runJob(UUID.randomUUID(), "check", "failed", t, t.plusSeconds(20), 0);
    }
    Set<String> ids = openAlertIds(api, e.hostId());
    assertEquals(2, ids.size());
    return ids;
  }

  private static String fixedAlertHost(Map<String, String> hosts) {
    return hosts.entrySet().stream().filter(h -> h.getValue().equals("crash-fixed-alerts")).findFirst()
        .orElseThrow().getKey();
  }

  private static Map<String, String> hostsById(ServerApi api) throws Exception {
    Map<String, String> out = new TreeMap<>();
    for (Map<String, Object> h : api.hosts()) out.put(Json.str(h, "id"), Json.str(h, "name"));
    return out;
  }

  private static Set<String> openAlertIds(ServerApi api, String hostId) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (Map<String, Object> a : api.openAlerts()) {
      if (hostId.equals(a.get("host_id"))) ids.add(Json.str(a, "id"));
    }
    return ids;
  }

  private static Map<String, Set<String>> openAlertKinds(ServerApi api) throws Exception {
    Map<String, Set<String>> out = new HashMap<>();
    for (Map<String, Object> a : api.openAlerts()) {
      out.computeIfAbsent(Json.str(a, "host_id"), h -> new TreeSet<>()).add(Json.str(a, "kind"));
    }
    return out;
  }

  private static Set<String> active(Map<String, StreamingAgent> agentOf, List<StreamingAgent> agents) {
    Set<String> out = new HashSet<>();
    agentOf.forEach((host, a) -> {
      if (agents.contains(a)) out.add(host);
    });
    return out;
  }

  private static long finishedJobs(ServerApi api, Set<String> hostIds) throws Exception {
    long n = 0;
    for (String h : hostIds) n += api.jobs(h).stream().filter(j -> !"running".equals(j.get("status"))).count();
    return n;
  }

  /**
   * The open alerts the host's finishes call for: a kind whose last non-warning job failed or was cancelled,
   * and {@code backup_partial} when a backup warned after the last backup that succeeded.
   */
  private static Set<String> expectedAlerts(StreamingAgent agent) {
    Map<String, String> lastDecisive = new HashMap<>();
    boolean partial = false;
    for (StreamingAgent.SentJob j : agent.sentJobs()) {
      if (!j.status().equals("warning")) lastDecisive.put(j.kind(), j.status());
      if (j.kind().equals("backup") && j.status().equals("warning")) partial = true;
      if (j.kind().equals("backup") && j.status().equals("succeeded")) partial = false;
    }
    Set<String> out = new TreeSet<>();
    if (partial) out.add("backup_partial");
    lastDecisive.forEach((kind, status) -> {
      String alert = ALERT_OF_KIND.get(kind);
      if (alert != null && (status.equals("failed") || status.equals("cancelled"))) out.add(alert);
    });
    return out;
  }

  private static boolean allAckedMore(List<StreamingAgent> agents, long[] before, int more) {
    for (int i = 0; i < agents.size(); i++) {
      if (agents.get(i).acks() < before[i] + more) return false;
    }
    return true;
  }
}
