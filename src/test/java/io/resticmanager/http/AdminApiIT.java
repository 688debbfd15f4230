package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Await;
import io.resticmanager.support.Json;
import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin and enrollment REST API of CONTRACT §3 on a real server, driven by the JDK HttpClient. */
class AdminApiIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicInteger HOSTS = new AtomicInteger();
  private static final Set<String> HOST_FIELDS =
      Set.of("id", "name", "online", "last_seen_at", "agent_version", "restic_version", "os", "enrolled_at");

  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  // ------------------------------------------------------------------ enrollment

  @Test
  void anEnrollmentTokenIsCreatedWithItsExpiryAndEnrollsOneHostOnce() throws Exception {
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS); // the server keeps milliseconds
    HttpResponse<String> t = server.admin("POST", "/api/v1/enrollment-tokens", "{\"ttl_seconds\":3600}");
    assertEquals(201, t.statusCode(), t.body());
    assertJson(t);
    Map<String, Object> token = Json.object(t.body());
    assertEquals(Set.of("token", "expires_at"), token.keySet());
    Instant expires = Instant.parse(Json.str(token, "expires_at"));
    assertTrue(!expires.isBefore(before.plusSeconds(3600)) && expires.isBefore(before.plusSeconds(3660)), expires.toString());

    String name = name("enrol");
    HttpResponse<String> e = enroll(Json.str(token, "token"), name);
    assertEquals(201, e.statusCode(), e.body());
    Map<String, Object> enrolled = Json.object(e.body());
    assertEquals(Set.of("host_id", "agent_token"), enrolled.keySet());
    assertTrue(Json.str(enrolled, "agent_token").length() >= 43, "256 random bits");
    assertEquals(200, server.admin("GET", "/api/v1/hosts/" + enrolled.get("host_id"), null).statusCode());

    HttpResponse<String> again = enroll(Json.str(token, "token"), name("enrol"));
    assertError(again, 401, "unauthorized");
  }

  @Test
  void anEnrollmentTokenWithoutTtlLivesOneHour() throws Exception {
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS); // the server keeps milliseconds
    for (String body : new String[] {"{}", ""}) {
      HttpResponse<String> t = server.admin("POST", "/api/v1/enrollment-tokens", body);
      assertEquals(201, t.statusCode(), t.body());
      Instant expires = Instant.parse(Json.str(Json.object(t.body()), "expires_at"));
      assertTrue(!expires.isBefore(before.plusSeconds(3600)) && expires.isBefore(before.plusSeconds(3660)),
          expires.toString());
    }
  }

  @Test
  void anExpiredOrUnknownEnrollmentTokenIs401() throws Exception {
    Map<String, Object> token = Json.object(
        server.admin("POST", "/api/v1/enrollment-tokens", "{\"ttl_seconds\":1}").body());
    Instant expires = Instant.parse(Json.str(token, "expires_at"));
    Await.until(Duration.ofSeconds(5), () -> Instant.now().isAfter(expires.plusMillis(50)));

    assertError(enroll(Json.str(token, "token"), name("late")), 401, "unauthorized");
    assertError(enroll("no-such-token", name("nobody")), 401, "unauthorized");
  }

  @Test
  void aHostnameAlreadyEnrolledIs409AndLeavesTheTokenUsable() throws Exception {
    String name = name("twin");
    server.enroll(name);
    String token = Json.str(Json.object(server.admin("POST", "/api/v1/enrollment-tokens", "{}").body()), "token");
    assertError(enroll(token, name), 409, "host_exists");
    assertEquals(201, enroll(token, name("twin")).statusCode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not json", "{", "[]", "\"x\"", "{\"enrollment_token\":1,\"hostname\":\"h\"}",
      "{\"enrollment_token\":\"t\",\"hostname\":\"bad name/with slash\"}", "{\"enrollment_token\":\"\",\"hostname\":\"h\"}",
      "{\"enrollment_token\":null,\"hostname\":\"h\"}"})
  void aMalformedEnrollBodyIs400NeverA500(String body) throws Exception {
    assertError(server.send("POST", "/api/v1/agents/enroll", null, body), 400, "bad_request");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"hostname\":\"h\"}|enrollment_token",
      "{\"enrollment_token\":\"t\"}|hostname"})
  void aMissingEnrollFieldIs400NamingIt(String body, String field) throws Exception {
    HttpResponse<String> r = server.send("POST", "/api/v1/agents/enroll", null, body);
    assertError(r, 400, "bad_request");
    assertTrue(Json.str(Json.object(r.body()), "message").contains("\"" + field + "\""), r.body());
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"ttl_seconds\":0}", "{\"ttl_seconds\":-5}", "{\"ttl_seconds\":1.5}",
      "{\"ttl_seconds\":\"60\"}", "{\"ttl_seconds\":1e30}", "[1]", "{\"ttl_seconds\":", "{\"ttl_seconds\":99999999999}"})
  void aMalformedEnrollmentTokenRequestIs400(String body) throws Exception {
    HttpResponse<String> r = server.admin("POST", "/api/v1/enrollment-tokens", body);
    assertError(r, 400, "bad_request");
  }

  // ------------------------------------------------------------------ admin authentication

  @ParameterizedTest
  @CsvSource({
      "GET, /api/v1/hosts", "GET, /api/v1/hosts/x", "DELETE, /api/v1/hosts/x", "POST, /api/v1/hosts/x/jobs",
      "GET, /api/v1/jobs", "GET, /api/v1/alerts", "POST, /api/v1/alerts/x/ack", "POST, /api/v1/enrollment-tokens"})
  void adminRoutesWithoutOrWithAWrongTokenAre401WithAJsonBody(String method, String path) throws Exception {
    for (String bearer : new String[] {null, "wrong-token", server.adminToken() + "x", "", "test-admin-token"}) {
      HttpResponse<String> r = server.send(method, path, bearer, "{\"kind\":\"backup\"}");
      assertError(r, 401, "unauthorized");
      assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse("").split(" ")[0]);
    }
    HttpResponse<String> agentToken = server.send(method, path, server.enroll(name("agent")).agentToken(), "{}");
    assertEquals(401, agentToken.statusCode(), "an agent token is not an admin token");
  }

  // ------------------------------------------------------------------ hosts

  @Test
  void hostsAreListedAndFetchedWithExactlyTheContractFields() throws Exception {
    String quiet = name("quiet");
    String busy = name("busy");
    TestServer.Enrolled q = server.enroll(quiet);
    TestServer.Enrolled b = server.enroll(busy);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), b.agentToken(), busy)) {
      HttpResponse<String> list = server.admin("GET", "/api/v1/hosts", null);
      assertEquals(200, list.statusCode());
      assertJson(list);
      List<Map<String, Object>> hosts = Json.objects(list.body());
      for (Map<String, Object> h : hosts) assertEquals(HOST_FIELDS, h.keySet(), h.toString());
      List<Object> names = hosts.stream().map(h -> h.get("name")).toList();
      assertTrue(names.contains(quiet) && names.contains(busy), names.toString());

      Map<String, Object> one = Json.object(server.admin("GET", "/api/v1/hosts/" + b.hostId(), null).body());
      assertEquals(HOST_FIELDS, one.keySet());
      assertEquals(b.hostId(), one.get("id"));
      assertEquals(busy, one.get("name"));
      assertEquals(Boolean.TRUE, one.get("online"));
      assertEquals("test-1.0", one.get("agent_version"));
      assertEquals("0.16.4", one.get("restic_version"));
      assertEquals("linux", one.get("os"));
      Instant.parse(Json.str(one, "last_seen_at"));
      Instant.parse(Json.str(one, "enrolled_at"));
      assertEquals(one, hosts.stream().filter(h -> h.get("id").equals(b.hostId())).findFirst().orElseThrow());

      Map<String, Object> never = Json.object(server.admin("GET", "/api/v1/hosts/" + q.hostId(), null).body());
      assertEquals(Boolean.FALSE, never.get("online"));
      assertNull(never.get("last_seen_at"), "never seen");
    }
  }

  @Test
  void anUnknownHostIs404WithAJsonBody() throws Exception {
    assertError(server.admin("GET", "/api/v1/hosts/" + UUID.randomUUID(), null), 404, "not_found");
    assertError(server.admin("DELETE", "/api/v1/hosts/" + UUID.randomUUID(), null), 404, "not_found");
    assertError(server.admin("POST", "/api/v1/hosts/" + UUID.randomUUID() + "/jobs", "{\"kind\":\"check\"}"),
        404, "not_found");
  }

  // ------------------------------------------------------------------ running a job on a host

  @Test
  void runningAJobSendsCommandRunToTheConnectedAgentAndAnswers202() throws Exception {
    String name = name("runner");
    TestServer.Enrolled h = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      for (String kind : new String[] {"backup", "prune"}) {
        HttpResponse<String> r = server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs",
            "{\"kind\":\"" + kind + "\"}");
        assertEquals(202, r.statusCode(), r.body());
        Map<String, Object> accepted = Json.object(r.body());
        assertEquals(Set.of("job_id"), accepted.keySet());
        String jobId = Json.str(accepted, "job_id");
        UUID.fromString(jobId);

        Map<String, Object> command = Json.object(agent.awaitFrame(f -> f.contains("command.run"), WAIT));
        assertEquals("command.run", command.get("type"));
        assertEquals(jobId, command.get("job_id"));
        assertEquals(kind, command.get("kind"));
      }
    }
  }

  @Test
  void runningAJobOnAnOfflineHostIs409() throws Exception {
    TestServer.Enrolled h = server.enroll(name("away"));
    assertError(server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs", "{\"kind\":\"backup\"}"),
        409, "host_offline");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"kind\":\"defrag\"}", "{\"kind\":\"\"}", "{}", "{\"kind\":3}", "nope", ""})
  void runningAJobWithABadKindOrBodyIs400(String body) throws Exception {
    String name = name("badkind");
    TestServer.Enrolled h = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      HttpResponse<String> r = server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs", body);
      assertError(r, 400, "bad_request");
      if (body.startsWith("{")) {
        assertTrue(Json.str(Json.object(r.body()), "message").contains("\"kind\""), r.body());
      }
      assertEquals(null, agent.nextFrame(Duration.ofMillis(200)), "nothing is sent to the agent");
    }
  }

  @Test
  void aRestoreSendsWhatToRestoreInCommandRunWithLatestAsTheDefaultSnapshot() throws Exception {
    String name = name("restorer");
    TestServer.Enrolled h = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      HttpResponse<String> r = server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs",
          "{\"kind\":\"restore\",\"target\":\"/srv/restore\"}");
      assertEquals(202, r.statusCode(), r.body());
      String jobId = Json.str(Json.object(r.body()), "job_id");
      assertEquals("{\"type\":\"command.run\",\"job_id\":\"" + jobId + "\",\"kind\":\"restore\","
          + "\"snapshot_id\":\"latest\",\"target\":\"/srv/restore\"}",
          agent.awaitFrame(f -> f.contains("command.run"), WAIT));

      r = server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs", "{\"kind\":\"restore\","
          + "\"snapshot_id\":\"a1b2c3d4\",\"target\":\"/srv/r\",\"include\":[\"/etc/nginx\",\"/home/a b\"]}");
      assertEquals(202, r.statusCode(), r.body());
      jobId = Json.str(Json.object(r.body()), "job_id");
      assertEquals("{\"type\":\"command.run\",\"job_id\":\"" + jobId + "\",\"kind\":\"restore\","
          + "\"snapshot_id\":\"a1b2c3d4\",\"target\":\"/srv/r\",\"include\":[\"/etc/nginx\",\"/home/a b\"]}",
          agent.awaitFrame(f -> f.contains("command.run"), WAIT));
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "target|{\"kind\":\"restore\"}",
      "target|{\"kind\":\"restore\",\"target\":null}",
      "target|{\"kind\":\"restore\",\"target\":\"\"}",
      "target|{\"kind\":\"restore\",\"target\":7}",
      "target|{\"kind\":\"restore\",\"target\":\"srv/restore\"}",
      "target|{\"kind\":\"restore\",\"target\":\"/srv/../etc\"}",
      "target|{\"kind\":\"restore\",\"target\":\"/srv/a\\u0000b\"}",
      "snapshot_id|{\"kind\":\"restore\",\"target\":\"/t\",\"snapshot_id\":\"last\"}",
      "snapshot_id|{\"kind\":\"restore\",\"target\":\"/t\",\"snapshot_id\":\"A1B2C3D4\"}",
      "snapshot_id|{\"kind\":\"restore\",\"target\":\"/t\",\"snapshot_id\":12345678}",
      "include|{\"kind\":\"restore\",\"target\":\"/t\",\"include\":\"/etc\"}",
      "include|{\"kind\":\"restore\",\"target\":\"/t\",\"include\":[\"/etc\",1]}",
      "include|{\"kind\":\"restore\",\"target\":\"/t\",\"include\":[\"etc\"]}",
      "target|{\"kind\":\"backup\",\"target\":\"/t\"}",
      "snapshot_id|{\"kind\":\"check\",\"snapshot_id\":\"latest\"}",
      "include|{\"kind\":\"prune\",\"include\":[]}"})
  void aBadRestoreOrARestoreFieldOnAnotherKindIs400NamingTheField(String field, String body) throws Exception {
    String name = name("badrestore");
    TestServer.Enrolled h = server.enroll(name);
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      HttpResponse<String> r = server.admin("POST", "/api/v1/hosts/" + h.hostId() + "/jobs", body);
      assertError(r, 400, "bad_request");
      assertTrue(Json.str(Json.object(r.body()), "message").startsWith("invalid field \"" + field + "\""), r.body());
      assertEquals(null, agent.nextFrame(Duration.ofMillis(200)), "nothing is sent to the agent");
    }
  }

  // ------------------------------------------------------------------ jobs

  @Test
  void jobsAreListedNewestFirstFilteredByHostAndLimited() throws Exception {
    String a = name("jobs-a");
    String b = name("jobs-b");
    TestServer.Enrolled ha = server.enroll(a);
    TestServer.Enrolled hb = server.enroll(b);
    Instant t = Instant.parse("2030-01-01T00:00:00Z");
    UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
    UUID running = UUID.randomUUID();
    try (TestAgent agentA = TestAgent.connectAndHello(server.wsUri(), ha.agentToken(), a);
        TestAgent agentB = TestAgent.connectAndHello(server.wsUri(), hb.agentToken(), b)) {
      agentA.runJob(ids[0], "backup", "succeeded", t, t.plusSeconds(10), 1);
      agentA.runJob(ids[1], "check", "failed", t.plusSeconds(100), t.plusSeconds(130), 0);
      agentB.runJob(ids[2], "backup", "succeeded", t.plusSeconds(50), t.plusSeconds(51), 1);
      agentA.send(TestAgent.started(running, "forget", t.plusSeconds(200)));
      agentA.awaitFrame(f -> f.contains(running.toString()), WAIT);
    }

    List<Map<String, Object>> onA = jobs("?host=" + ha.hostId());
    assertEquals(List.of(running.toString(), ids[1].toString(), ids[0].toString()),
        onA.stream().map(j -> j.get("id")).toList(), "newest first");
    for (Map<String, Object> j : onA) {
      assertTrue(j.keySet().containsAll(Set.of("id", "host_id", "kind", "status", "started_at", "finished_at",
          "duration_seconds", "summary")), j.toString());
    }
    Map<String, Object> open = onA.get(0);
    assertNull(open.get("finished_at"));
    assertNull(open.get("duration_seconds"));
    assertEquals(30.0, Json.num(onA.get(1), "duration_seconds"));
    assertEquals("failed", onA.get(1).get("status"));

    assertEquals(List.of(running.toString(), ids[1].toString()),
        jobs("?host=" + ha.hostId() + "&limit=2").stream().map(j -> j.get("id")).toList());
    assertEquals(List.of(ids[2].toString()), jobs("?host=" + hb.hostId()).stream().map(j -> j.get("id")).toList());
    assertEquals(1, jobs("?limit=1").size());
    assertEquals(List.of(), jobs("?host=" + UUID.randomUUID()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "abc", "1001", "99999999999999", "1.5", ""})
  void aBadJobsLimitIs400(String limit) throws Exception {
    assertError(server.admin("GET", "/api/v1/jobs?limit=" + limit, null), 400, "bad_request");
  }

  @Test
  void jobsArePagedByTheLinkHeaderAndFilteredByKindAndStatus() throws Exception {
    String name = name("paged");
    TestServer.Enrolled h = server.enroll(name);
    Instant t = Instant.parse("2031-01-01T00:00:00Z");
    List<String> newestFirst = new ArrayList<>();
    List<String> failedChecks = new ArrayList<>();
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      for (int i = 0; i < 23; i++) {
        UUID id = UUID.randomUUID();
        String kind = i % 2 == 0 ? "backup" : "check";
        String status = i % 3 == 0 ? "failed" : "succeeded";
        // Pairs of jobs start in the same second: pages end inside runs of equal times.
        agent.runJob(id, kind, status, t.plusSeconds(i / 2 * 60), t.plusSeconds(i / 2 * 60 + 5), 0);
        newestFirst.add(0, id.toString());
        if (kind.equals("check") && status.equals("failed")) failedChecks.add(0, id.toString());
      }
    }
    List<String> pages = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    String next = "/api/v1/jobs?host=" + h.hostId() + "&limit=5";
    while (next != null) {
      HttpResponse<String> r = server.admin("GET", next, null);
      assertEquals(200, r.statusCode(), r.body());
      Json.objects(r.body()).forEach(j -> seen.add((String) j.get("id")));
      pages.add(next);
      next = nextLink(r);
    }
    assertEquals(5, pages.size(), pages.toString());
    assertTrue(pages.get(1).startsWith("/api/v1/jobs?host=" + h.hostId() + "&limit=5&before="), pages.get(1));
    assertEquals(newestFirst.stream().sorted().toList(), seen.stream().sorted().toList(), "every job once");
    assertEquals(seen.size(), new HashSet<>(seen).size(), "no job on two pages");

    List<String> filtered = new ArrayList<>();
    next = "/api/v1/jobs?host=" + h.hostId() + "&kind=check&status=failed&limit=1";
    while (next != null) {
      HttpResponse<String> r = server.admin("GET", next, null);
      assertEquals(200, r.statusCode(), r.body());
      Json.objects(r.body()).forEach(j -> filtered.add((String) j.get("id")));
      next = nextLink(r);
      assertTrue(next == null || next.contains("kind=check&status=failed&limit=1&before="), next);
    }
    assertEquals(failedChecks, filtered, "the filter holds on every page");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kind=copy", "kind=", "kind=Backup", "status=ok", "status=", "before=", "before=xyz",
      "before=NTpiJzsgRFJPUCBUQUJMRSBqb2JzOy0t"})
  void aBadJobsFilterOrCursorIs400NamingTheParameter(String query) throws Exception {
    HttpResponse<String> r = server.admin("GET", "/api/v1/jobs?" + query, null);
    assertError(r, 400, "bad_request");
    String param = query.contains("before") ? "before" : query.substring(0, query.indexOf('='));
    assertTrue(r.body().contains("\\\"" + param + "\\\""), r.body());
  }

  private static String nextLink(HttpResponse<String> r) {
    Optional<String> link = r.headers().firstValue("Link");
    if (link.isEmpty()) return null;
    Matcher m = Pattern.compile("^<([^>]+)>; rel=\"next\"$").matcher(link.get());
    assertTrue(m.matches(), link.get());
    return m.group(1);
  }

  // ------------------------------------------------------------------ alerts

  @Test
  void alertsArePagedByTheLinkHeader() throws Exception {
    String name = name("paged-alerts");
    TestServer.Enrolled h = server.enroll(name);
    Instant t = Instant.parse("2032-01-01T00:00:00Z");
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      for (int i = 0; i < 4; i++) {
        agent.runJob(UUID.randomUUID(), "prune", "failed", t.plusSeconds(i * 20), t.plusSeconds(i * 20 + 1), 0);
        agent.runJob(UUID.randomUUID(), "prune", "succeeded", t.plusSeconds(i * 20 + 10), t.plusSeconds(i * 20 + 11), 0);
      }
    }
    assertNotNull(nextLink(server.admin("GET", "/api/v1/alerts?status=resolved&limit=2", null)), "a next page");
    List<Object> ids = server.api().allPages("/api/v1/alerts?status=resolved&limit=2").stream()
        .filter(a -> h.hostId().equals(a.get("host_id"))).map(a -> a.get("id")).toList();
    assertEquals(4, ids.size(), "the host's four resolved alerts, each once: " + ids);
    assertEquals(4, new HashSet<>(ids).size());
  }

  @Test
  void alertsAreListedByStatus() throws Exception {
    String name = name("alerts");
    TestServer.Enrolled h = server.enroll(name);
    Instant t = Instant.parse("2029-01-01T00:00:00Z");
    try (TestAgent agent = TestAgent.connectAndHello(server.wsUri(), h.agentToken(), name)) {
      agent.runJob(UUID.randomUUID(), "check", "failed", t, t.plusSeconds(1), 0);
      agent.runJob(UUID.randomUUID(), "check", "succeeded", t.plusSeconds(10), t.plusSeconds(11), 0);
      agent.runJob(UUID.randomUUID(), "prune", "failed", t.plusSeconds(20), t.plusSeconds(21), 0);
    }
    List<Map<String, Object>> open = alerts("open", h.hostId());
    List<Map<String, Object>> resolved = alerts("resolved", h.hostId());
    List<Map<String, Object>> all = alerts("all", h.hostId());
    assertEquals(List.of("prune_failed"), open.stream().map(a -> a.get("kind")).toList());
    assertEquals(List.of("check_failed"), resolved.stream().map(a -> a.get("kind")).toList());
    assertEquals(2, all.size());
    assertEquals(alerts(null, h.hostId()), open, "open is the default");
    for (Map<String, Object> a : all) {
      assertEquals(Set.of("id", "host_id", "kind", "severity", "status", "raised_at", "acknowledged_at",
          "resolved_at", "message"), a.keySet());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"status=closed", "status=", "status=OPEN%20", "limit=0", "limit=x", "before=abc"})
  void aBadAlertsQueryIs400(String query) throws Exception {
    assertError(server.admin("GET", "/api/v1/alerts?" + query, null), 400, "bad_request");
  }

  // ------------------------------------------------------------------ unknown routes and methods

  @ParameterizedTest
  @CsvSource({"GET, /nope", "GET, /api/v1/nope", "GET, /api/v2/hosts", "POST, /api/v1", "GET, /metrics",
      "GET, /ui/nope"})
  void unknownRoutesAre404WithAJsonBody(String method, String path) throws Exception {
    assertError(server.send(method, path, null, null), 404, "not_found");
    assertError(server.send(method, path, server.adminToken(), null), 404, "not_found");
  }

  @ParameterizedTest
  @CsvSource({"GET, /api/v1/hosts/a/b/c", "GET, /api/v1/alerts/x", "GET, /api/v1/hosts/x/jobs/y"})
  void unknownRoutesUnderAnAdminPrefixAre404ForTheAdmin(String method, String path) throws Exception {
    assertError(server.send(method, path, server.adminToken(), null), 404, "not_found");
  }

  @ParameterizedTest
  @CsvSource({"PUT, /api/v1/jobs", "DELETE, /api/v1/alerts", "GET, /api/v1/enrollment-tokens",
      "PATCH, /api/v1/hosts/x", "GET, /api/v1/agents/enroll", "PUT, /api/v1/hosts", "GET, /api/v1/alerts/x/ack",
      "POST, /healthz", "DELETE, /"})
  void aWrongMethodIs405WithAJsonBody(String method, String path) throws Exception {
    HttpResponse<String> r = server.send(method, path, server.adminToken(), null);
    assertError(r, 405, "method_not_allowed");
    assertTrue(r.headers().firstValue("Allow").isPresent(), r.headers().toString());
  }

  // ------------------------------------------------------------------ helpers

  private static String name(String prefix) {
    return prefix + "-" + HOSTS.incrementAndGet();
  }

  private static HttpResponse<String> enroll(String token, String hostname) throws Exception {
    return server.send("POST", "/api/v1/agents/enroll", null,
        "{\"enrollment_token\":\"" + token + "\",\"hostname\":\"" + hostname + "\"}");
  }

  private static List<Map<String, Object>> jobs(String query) throws Exception {
    HttpResponse<String> r = server.admin("GET", "/api/v1/jobs" + query, null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(r.body());
  }

  private static List<Map<String, Object>> alerts(String status, String hostId) throws Exception {
    HttpResponse<String> r = server.admin("GET", "/api/v1/alerts" + (status == null ? "" : "?status=" + status), null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(r.body()).stream().filter(a -> hostId.equals(a.get("host_id"))).toList();
  }

  private static void assertJson(HttpResponse<String> r) {
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.toString());
  }

  /** A contract error: the status, a JSON {@code {"error","message"}} body with this code. */
  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertJson(r);
    Map<String, Object> body = Json.object(r.body());
    assertEquals(Set.of("error", "message"), body.keySet(), r.body());
    assertEquals(code, body.get("error"), r.body());
    assertFalse(Json.str(body, "message").isBlank(), r.body());
    assertNotNull(body.get("message"));
  }
}
