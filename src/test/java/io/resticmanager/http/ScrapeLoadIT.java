package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.store.Database;
import io.resticmanager.store.HostStore;
import io.resticmanager.support.Await;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.Json;
import io.resticmanager.support.ServerApi;
import io.resticmanager.support.StreamingAgent;
import io.resticmanager.support.TestDatabases;
import io.resticmanager.support.TestServer;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scrapes under load (issue 8, item 6), against one server whose fleet has 2,000 hosts (written to its
 * database before it starts), so that a scrape is a ~1 MB body that takes real time to render: 50
 * concurrent scrapes (at most {@code metrics.max-in-flight} = 8 rendered at once, the rest answered 503
 * quickly), a scraper that reads one byte a second with requests pipelined behind it, and the histogram's
 * invariants on every scrape while agents ingest job events flat out.
 */
class ScrapeLoadIT {
  private static final String TOKEN = "scrape-load-metrics-token-0123456789";
  private static final int HOSTS = 2_000;
  private static final int MAX_IN_FLIGHT = 8;
  private static final int MIB = 1 << 20;
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static TestServer server;
  private static ServerApi api;
  private static final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startWithALargeFleet() throws Exception {
    try (Database db = TestDatabases.open(TestDatabases.sqlite(dir))) {
      HostStore hosts = new HostStore(db);
      long now = System.currentTimeMillis();
      List<CompletableFuture<?>> enrolled = new ArrayList<>();
      for (int i = 0; i < HOSTS; i++) {
        String name = "fleet-host-" + i;
        enrolled.add(hosts.createEnrollmentToken(now, 3_600_000)
            .thenCompose(t -> hosts.enroll(t.token(), name, UUID.randomUUID().toString(), now))
            .toCompletableFuture());
      }
      CompletableFuture.allOf(enrolled.toArray(CompletableFuture[]::new)).get();
    }
    server = TestServer.start(dir, "restic-manager.metrics.max-in-flight = " + MAX_IN_FLIGHT + "\n",
        Map.of("RM_METRICS_TOKEN", TOKEN));
    api = new ServerApi(server.port(), server.adminToken(), TOKEN);
    assertEquals(HOSTS, api.hosts().size());
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void fiftyConcurrentScrapesAreServedAtMostEightAtATimeAndTheRestGet503Quickly() throws Exception {
    int ok = 0;
    int refused = 0;
    long slowestRefusalMillis = 0;
    // Rounds until some scrapes overlapped enough to be refused; each round is 50 at once.
    for (int round = 0; round < 10 && refused == 0; round++) {
      List<CompletableFuture<long[]>> scrapes = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        long t = System.nanoTime();
        scrapes.add(http.sendAsync(scrape(), HttpResponse.BodyHandlers.ofString())
            .thenApply(r -> {
              long millis = (System.nanoTime() - t) / 1_000_000;
              if (r.statusCode() == 200) {
                assertTrue(Exposition.parse(r.body()).named("restic_manager_host_online").size() >= HOSTS);
              } else {
                assertEquals(503, r.statusCode(), r.body());
                assertEquals("unavailable", Json.object(r.body()).get("error"));
              }
              return new long[] {r.statusCode(), millis};
            }));
      }
      for (CompletableFuture<long[]> f : scrapes) {
        long[] r = f.get();
        if (r[0] == 200) {
          ok++;
        } else {
          refused++;
          slowestRefusalMillis = Math.max(slowestRefusalMillis, r[1]);
        }
      }
    }
    System.out.printf("ScrapeLoadIT: %d scrapes served, %d refused, slowest refusal %d ms%n",
        ok, refused, slowestRefusalMillis);
    assertTrue(refused > 0, "more than " + MAX_IN_FLIGHT + " concurrent scrapes are refused");
    assertTrue(ok >= MAX_IN_FLIGHT, "and up to " + MAX_IN_FLIGHT + " are served: " + ok);
    assertTrue(slowestRefusalMillis < 3_000, "a refusal is quick: " + slowestRefusalMillis + " ms");
  }

  @Test
  void aScraperReadingOneByteASecondHoldsFewSlotsAndDoesNotGrowTheHeap() throws Exception {
    long heapBefore = usedHeapAfterGc();
    try (Socket slow = new Socket()) {
      slow.setReceiveBufferSize(1024);
      slow.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      slow.setSoTimeout((int) WAIT.toMillis());
      // A hundred requests pipelined behind the first: ~100 MB if the server rendered them all ahead.
      String request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n";
      slow.getOutputStream().write(request.repeat(100).getBytes(UTF_8));
      slow.getOutputStream().flush();
      InputStream in = slow.getInputStream();
      StringBuilder head = new StringBuilder();
      for (int second = 0; second < 6; second++) {
        long next = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        head.append((char) in.read());
        // Meanwhile everyone else is served, every one of them: of the eight slots the slow reader holds
        // the body it is reading and, for up to MetricsRoutes.UNSENT_GRACE, the two responses Pekko makes
        // ahead behind it.
        assertEquals(200, http.send(scrape(), HttpResponse.BodyHandlers.discarding()).statusCode());
        Await.until(Duration.ofSeconds(2), () -> System.nanoTime() >= next);
      }
      assertTrue("HTTP/1".startsWith(head.substring(0, 6)), head.toString());
      long grown = usedHeapAfterGc() - heapBefore;
      assertTrue(grown < 32L * MIB, "the heap grew by " + grown / MIB + " MiB");
    }
  }

  @Test
  void histogramInvariantsHoldOnEveryScrapeWhileAgentsIngestFlatOut() throws Exception {
    List<StreamingAgent> agents = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        String name = "ingest-" + i;
        TestServer.Enrolled e = server.enroll(name);
        StreamingAgent a = new StreamingAgent(name, e.agentToken(), server::wsUri, 60, i);
        agents.add(a);
        a.gate(true);
      }
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.acks() > 0));
      Map<String, Double> previous = new HashMap<>();
      int scrapes = 0;
      long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
      while (System.nanoTime() < end) {
        previous = checkHistogram(api.metrics(), previous);
        scrapes++;
      }
      agents.forEach(a -> a.pause(true));
      Await.until(WAIT, () -> agents.stream().allMatch(a -> a.outboxSize() == 0));
      long finished = agents.stream().mapToLong(a -> a.sentJobs().size()).sum();
      Exposition last = api.metrics();
      checkHistogram(last, previous);
      System.out.printf("ScrapeLoadIT: %d scrapes during ingestion of %d jobs%n", scrapes, finished);
      assertTrue(scrapes >= 3, "scraped " + scrapes + " times");
      assertEquals(finished, ServerApi.histogramCount(last), "every finished job counted once");
    } finally {
      agents.forEach(StreamingAgent::close);
    }
  }

  /**
   * Per kind × status: buckets cumulative and ending in +Inf = _count, _sum not negative, and nothing
   * smaller than in the previous scrape. Returns this scrape's counts.
   */
  private static Map<String, Double> checkHistogram(Exposition e, Map<String, Double> previous) {
    Map<String, List<Exposition.Sample>> buckets = new TreeMap<>();
    for (Exposition.Sample s : e.named("restic_manager_job_duration_seconds_bucket")) {
      buckets.computeIfAbsent(s.label("kind") + "/" + s.label("status"), k -> new ArrayList<>()).add(s);
    }
    assertEquals("histogram", e.types().get("restic_manager_job_duration_seconds"));
    assertEquals(5 * 4, buckets.size(), "every kind x status present");
    Map<String, Double> counts = new HashMap<>();
    for (Map.Entry<String, List<Exposition.Sample>> series : buckets.entrySet()) {
      String[] ks = series.getKey().split("/");
      Map<String, String> labels = Map.of("kind", ks[0], "status", ks[1]);
      double last = 0;
      for (Exposition.Sample b : series.getValue()) {
        assertTrue(b.number() >= last, "cumulative buckets in " + series.getKey());
        last = b.number();
      }
      Exposition.Sample inf = series.getValue().get(series.getValue().size() - 1);
      assertEquals("+Inf", inf.label("le"));
      double count = e.one("restic_manager_job_duration_seconds_count", labels).number();
      assertEquals(count, inf.number(), "+Inf bucket = _count in " + series.getKey());
      assertTrue(e.one("restic_manager_job_duration_seconds_sum", labels).number() >= 0);
      assertTrue(count >= previous.getOrDefault(series.getKey(), 0.0), "_count never goes back in " + series.getKey());
      counts.put(series.getKey(), count);
    }
    return counts;
  }

  private static HttpRequest scrape() {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
        .timeout(WAIT).header("Authorization", "Bearer " + TOKEN).GET().build();
  }

  private static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    memory.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }
}
