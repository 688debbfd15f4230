package io.resticmanager.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.Json;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.StreamingAgent;
import io.resticmanager.support.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite backups docs/operations.md recommends, taken while the server runs and agents stream:
 * {@code VACUUM INTO} and SQLite's online backup (what the CLI's {@code .backup} uses; here through
 * sqlite-jdbc's {@code backup to}). Each copy passes SQLite's integrity check and, served by a new server,
 * has every host and every event acked before the copy began.
 */
class OnlineBackupIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void vacuumIntoAndTheOnlineBackupOfARunningServerAreCompleteConsistentCopies() throws Exception {
    Path live = dir.resolve("live");
    Path vacuumed = dir.resolve("vacuumed");
    Path backedUp = dir.resolve("backed-up");
    Files.createDirectories(vacuumed);
    Files.createDirectories(backedUp);
    Map<String, Set<String>> ackedBefore = new HashMap<>();
    List<StreamingAgent> agents = new ArrayList<>();
    try (TestServer server = TestServer.start(live)) {
      Map<String, StreamingAgent> agentOf = new HashMap<>();
      for (int i = 0; i < 2; i++) {
        String name = "backed-up-" + i;
        TestServer.Enrolled e = server.enroll(name);
        StreamingAgent a = new StreamingAgent(name, e.agentToken(), server::wsUri, 48, i);
        agents.add(a);
        agentOf.put(e.hostId(), a);
        a.gate(true);
      }
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.acks() >= 200));
      agentOf.forEach((host, a) -> ackedBefore.put(host, a.ackedEvents()));

      String db = live.resolve("restic-manager.db").toString();
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout = 10000");
        s.execute("VACUUM INTO '" + vacuumed.resolve("restic-manager.db") + "'");
        s.executeUpdate("backup to " + backedUp.resolve("restic-manager.db"));
      }
      assertTrue(agents.stream().allMatch(StreamingAgent::isConnected), "the server kept serving meanwhile");
    } finally {
      agents.forEach(StreamingAgent::close);
    }

    for (Path copy : List.of(vacuumed, backedUp)) {
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy.resolve("restic-manager.db"));
          Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
        rs.next();
        assertEquals("ok", rs.getString(1), copy.toString());
      }
      try (TestServer restored = TestServer.start(copy)) {
        ServerApi api = new ServerApi(restored.port(), restored.adminToken(), null);
        assertEquals(2, api.hosts().size(), copy.toString());
        for (Map.Entry<String, Set<String>> e : ackedBefore.entrySet()) {
          Set<String> stored = new HashSet<>();
          Map<String, String> status = new HashMap<>();
          for (Map<String, Object> j : api.jobs(e.getKey())) status.put(Json.str(j, "id"), Json.str(j, "status"));
          for (String event : e.getValue()) {
            String id = event.substring(event.indexOf(' ') + 1);
            if (status.containsKey(id) && (event.startsWith("job.started") || !"running".equals(status.get(id)))) {
              stored.add(event);
            }
          }
          assertEquals(e.getValue(), stored, "every event acked before the copy is in " + copy.getFileName());
        }
      }
    }
  }
}
