package io.resticmanager.bench;

import io.resticmanager.config.SettingsLoader;
import io.resticmanager.server.Server;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The fleet page end to end on a real in-process server (SQLite): {@code hosts} hosts written straight into a
 * fresh database, each with a succeeded backup and check; the server started so that every host's entity
 * loads; one login; then {@code GET /} timed from the JDK client on loopback, plain and gzipped, {@code rounds}
 * times each after a warm-up. What it times is the route's whole work (the hosts table read, every node's view
 * asked, rendering, Pekko's response) plus the loopback transfer. No agents: hosts are offline.
 *
 * <pre>java -cp "$CP" io.resticmanager.bench.StatusPageTiming --hosts=10000 --rounds=20</pre>
 */
public final class StatusPageTiming {
  private static void print(int hosts, String what, List<Double> ms) {
    Collections.sort(ms);
    System.out.printf("%,d hosts, %s: over %d calls min %.1f ms, median %.1f ms, max %.1f ms%n", hosts, what,
        ms.size(), ms.get(0), ms.get(ms.size() / 2), ms.get(ms.size() - 1));
  }

  public static void main(String[] args) throws Exception {
    int hosts = 10_000;
    int rounds = 20;
    for (String a : args) {
      if (a.startsWith("--hosts=")) hosts = Integer.parseInt(a.substring(8));
      if (a.startsWith("--rounds=")) rounds = Integer.parseInt(a.substring(9));
    }
    Path dir = Files.createTempDirectory("status-page-timing");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String token = "timing-admin-token-0123456789";
    Map<String, String> env = Map.of("RM_DATA_DIR", dir.toString(), "RM_HTTP_PORT", Integer.toString(port),
        "RM_ADMIN_TOKEN", token);
    Server.start(SettingsLoader.load(Optional.empty(), env)).stop(); // creates the schema
    long now = System.currentTimeMillis();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("restic-manager.db"))) {
      c.setAutoCommit(false);
      try (PreparedStatement h = c.prepareStatement("INSERT INTO hosts (id, name, enrolled_at, last_seen_at, "
              + "agent_version, restic_version, os) VALUES (?, ?, ?, ?, '0.1.0', '0.17.3', 'linux/amd64')");
          PreparedStatement j = c.prepareStatement("INSERT INTO jobs (id, host_id, kind, status, started_at, "
              + "finished_at, exit_code, duration_seconds, data_added) VALUES (?, ?, ?, 'succeeded', ?, ?, 0, 60, 1000)")) {
        for (int i = 0; i < hosts; i++) {
          String id = UUID.randomUUID().toString();
          h.setString(1, id);
          h.setString(2, String.format("host-%05d.backup.example.net", i));
          h.setLong(3, now - 90L * 86_400_000);
          h.setLong(4, now - 60_000);
          h.addBatch();
          for (String kind : new String[] {"backup", "check"}) {
            long end = now - (i % 48) * 3_600_000L;
            j.setString(1, UUID.randomUUID().toString());
            j.setString(2, id);
            j.setString(3, kind);
            j.setLong(4, end - 60_000);
            j.setLong(5, end);
            j.addBatch();
          }
        }
        h.executeBatch();
        j.executeBatch();
      }
      c.commit();
    }
    Server server = Server.start(SettingsLoader.load(Optional.empty(), env));
    try {
      HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
      String base = "http://127.0.0.1:" + port;
      HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(base + "/ui/login"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)))
          .build(), HttpResponse.BodyHandlers.ofString());
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
      // until every host's entity has loaded (a host no view knows shows "unknown")
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (true) {
        String body = http.send(HttpRequest.newBuilder(URI.create(base + "/?fragment=1")).header("Cookie", cookie)
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        if (!body.contains(">unknown<") && body.contains(hosts + " hosts")) break;
        if (System.nanoTime() > deadline) throw new IllegalStateException("the hosts did not load");
        Thread.sleep(1000);
      }
      // the route's two steps alone: gathering the statuses, rendering the page
      List<Double> gather = new ArrayList<>();
      List<Double> render = new ArrayList<>();
      io.resticmanager.ui.FleetPage page = new io.resticmanager.ui.FleetPage(Duration.ofHours(26));
      io.resticmanager.ui.Assets assets = new io.resticmanager.ui.Assets();
      for (int r = 0; r < rounds + 5; r++) {
        long t0 = System.nanoTime();
        var statuses = server.started().fleet().statuses().toCompletableFuture().get();
        long t1 = System.nanoTime();
        int length = page.page(statuses, System.currentTimeMillis(), io.resticmanager.ui.FleetPage.Sort.WORST, "",
            assets, "csrf").length();
        long t2 = System.nanoTime();
        if (length == 0) throw new IllegalStateException();
        if (r >= 5) {
          gather.add((t1 - t0) / 1e6);
          render.add((t2 - t1) / 1e6);
        }
      }
      print(hosts, "Fleet.statuses()", gather);
      print(hosts, "FleetPage.page", render);
      for (boolean gzip : new boolean[] {false, true}) {
        List<Double> ms = new ArrayList<>();
        long bytes = 0;
        for (int r = 0; r < rounds + 5; r++) {
          HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/")).header("Cookie", cookie);
          if (gzip) b.header("Accept-Encoding", "gzip");
          long t0 = System.nanoTime();
          HttpResponse<byte[]> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
          double took = (System.nanoTime() - t0) / 1e6;
          if (resp.statusCode() != 200) throw new IllegalStateException("HTTP " + resp.statusCode());
          if (r >= 5) ms.add(took);
          bytes = resp.body().length;
        }
        Collections.sort(ms);
        System.out.printf("%,d hosts, %s: %,d bytes; over %d requests min %.1f ms, median %.1f ms, max %.1f ms%n",
            hosts, gzip ? "gzip" : "identity", bytes, ms.size(), ms.get(0), ms.get(ms.size() / 2),
            ms.get(ms.size() - 1));
      }
    } finally {
      server.stop();
    }
  }
}
