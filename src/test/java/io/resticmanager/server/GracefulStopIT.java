package io.resticmanager.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.ChildProcess;
import io.resticmanager.support.Json;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.StreamingAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while agents stream flat out (issue 8, item 2): the server process exits 0; every event it
 * acked is in the database when the next server starts, before any agent has resent anything; its log
 * has no ERROR line and no write refused by a closed store; every agent was closed with 1001 (going
 * away) and reconnects to the next server, whose outbox resends are then stored too.
 */
class GracefulStopIT {
  private static final String ADMIN = "stop-admin-token-0123456789";
  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int AGENTS = 3;

  @TempDir Path dir;

  @Test
  void sigtermDuringIngestionStoresEverythingAckedClosesAgentsWith1001AndTheyReconnectToTheNextServer()
      throws Exception {
    int port = TestServer.freePort();
    Map<String, String> env = Map.of("RM_DATA_DIR", dir.resolve("data").toString(),
        "RM_HTTP_PORT", Integer.toString(port), "RM_ADMIN_TOKEN", ADMIN);
    ServerApi api = new ServerApi(port, ADMIN, null);
    List<StreamingAgent> agents = new ArrayList<>();
    Map<String, StreamingAgent> agentOf = new HashMap<>();
    try {
      stopAndRestart(env, api, agents, agentOf);
    } finally {
      agents.forEach(StreamingAgent::close);
    }
  }

  private void stopAndRestart(Map<String, String> env, ServerApi api, List<StreamingAgent> agents,
      Map<String, StreamingAgent> agentOf) throws Exception {
    try (ChildProcess first = ChildProcess.start(dir, env, ChildProcess.FAST_START, "serve")) {
      first.awaitOutput("Listening on", START);
      for (int i = 0; i < AGENTS; i++) {
        TestServer.Enrolled e = api.enroll("stop-agent-" + i);
        StreamingAgent a = new StreamingAgent("stop-agent-" + i, e.agentToken(), api::wsUri, 48, i);
        agents.add(a);
        agentOf.put(e.hostId(), a);
        a.gate(true);
      }
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.acks() >= 200));

      first.sigterm();
      assertEquals(0, first.waitFor(START), first.outputText());
      agents.forEach(a -> a.gate(false));
      Await.until(WAIT, () -> agents.stream().noneMatch(StreamingAgent::isConnected));
      String log = first.outputText();
      assertCleanLog(log);
      assertTrue(log.contains("Database closed"), log);
      for (StreamingAgent a : agents) {
        assertEquals(List.of(1001), a.closeCodes(), a.hostname() + " is told the server is going away");
      }
    }

    Map<String, Set<String>> ackedByFirst = new HashMap<>();
    agentOf.forEach((host, a) -> ackedByFirst.put(host, a.ackedEvents()));
    try (ChildProcess second = ChildProcess.start(dir, env, ChildProcess.FAST_START, "serve")) {
      second.awaitOutput("Listening on", START);
      for (Map.Entry<String, Set<String>> e : ackedByFirst.entrySet()) {
        assertStored(e.getValue(), api.jobs(e.getKey()));
      }

      agents.forEach(a -> a.pause(true));
      agents.forEach(a -> a.gate(true));
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.welcomes() == 2 && a.outboxSize() == 0));
      for (Map.Entry<String, StreamingAgent> e : agentOf.entrySet()) {
        List<Map<String, Object>> jobs = api.jobs(e.getKey());
        assertStored(e.getValue().ackedEvents(), jobs);
        assertEquals(e.getValue().sentJobs().size(), jobs.size(), "one row per job sent, resends included");
        assertEquals(List.of(), e.getValue().errors());
      }

      second.sigterm();
      assertEquals(0, second.waitFor(START), second.outputText());
      assertCleanLog(second.outputText());
    }
  }

  private static void assertCleanLog(String log) {
    for (String line : log.split("\n")) {
      assertFalse(line.contains(" ERROR "), "no ERROR line: " + line);
      assertFalse(line.contains("store is closed") || line.contains("StoreClosedException"),
          "no write refused by a closed store: " + line);
      assertFalse(line.contains("Could not store"), "no write failed during the stop: " + line);
    }
  }

  private static void assertStored(Set<String> acked, List<Map<String, Object>> rows) {
    Map<String, String> status = new HashMap<>();
    for (Map<String, Object> j : rows) status.put(Json.str(j, "id"), Json.str(j, "status"));
    assertEquals(rows.size(), status.size(), "no job listed twice");
    for (String event : acked) {
      String id = event.substring(event.indexOf(' ') + 1);
      assertTrue(status.containsKey(id), "acked " + event + " is stored");
      if (event.startsWith("job.finished")) assertFalse("running".equals(status.get(id)), "acked " + event + " is finished");
    }
  }
}
