package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.support.Await;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.Json;
import io.resticmanager.support.ResticRepo;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestServer;
import io.resticmanager.support.Tools;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import spray.json.JsArray;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * The real agent with the real {@code restic} against the real server: enrollment through the API, a
 * backup whose summary and snapshot id reach the jobs API and /metrics, repository statistics on /metrics
 * that are restic's own, and a job that ends while the server is down delivered from the outbox after the
 * server comes back. Over plain HTTP, and over TLS (issue 12): the server with a certificate from a test CA
 * speaks only HTTPS and WSS, and the agent, given {@code https://} and that CA in {@code RM_SERVER_CA_FILE},
 * enrolls, connects and reconnects after the restart through them. And, for issue 14, a restore through the
 * admin API (restic restores the backed-up files byte for byte, an {@code include} restores only its path, a
 * snapshot that does not exist fails with restic's exit code and words) and a partial backup (restic run as
 * an unprivileged user over a file it cannot read).
 */
class AgentAgainstServerIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @ParameterizedTest(name = "over {0}")
  @ValueSource(strings = {"http", "https"})
  // An agent that cannot enroll (a server it does not trust, say) retries for ever: fail instead of hanging.
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void backupReachesTheServerAndTheOutboxDeliversAcrossAServerRestart(String scheme) throws Exception {
    Path data = Files.createDirectories(dir.resolve("sample"));
    Files.writeString(data.resolve("a.txt"), "hello restic\n");
    ResticRepo repo = ResticRepo.init(dir);
    Map<String, String> env = repo.env();

    Map<String, String> serverEnv = new HashMap<>(Map.of("RM_METRICS_TOKEN", "metrics-token-abc"));
    if (scheme.equals("https")) {
      TestCerts ca = TestCerts.authority(dir.resolve("certs"), "agent-it");
      TestCerts.Pair pair = ca.server(TestCerts.Alg.RSA);
      serverEnv.put("RM_TLS_CERT_FILE", pair.cert().toString());
      serverEnv.put("RM_TLS_KEY_FILE", pair.key().toString());
      env.put("RM_SERVER_CA_FILE", ca.caCert().toString());
    }
    try (TestServer server = TestServer.start(dir.resolve("server"), "", serverEnv);
        Agent agent = startAgent(server, scheme, data, env)) {
      assertTrue(agent.runNow(JobKind.BACKUP));
      await(() -> jobs(server).contains("\"status\":\"succeeded\""), "the backup is stored");
      String jobs = jobs(server);
      assertTrue(jobs.contains("\"snapshot_id\":\""), jobs);
      assertTrue(jobs.contains("\"files_new\":1"), jobs);
      assertTrue(server.get("/metrics", "metrics-token-abc").body()
          .contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"));
      // Statistics were collected at start (no snapshot) and again after the backup: restic's own numbers.
      await(() -> metric(server, "restic_manager_host_snapshots", "agent-it") == 1.0, "statistics after the backup");
      JsObject raw = resticJson(repo.restic().toString(), repo.env(), "stats", "--mode", "raw-data");
      assertEquals(number(raw, "total_size"), metric(server, "restic_manager_host_repository_size_bytes", "agent-it"));
      assertEquals(1, ((JsArray) JsonParser.apply(ParserInput.apply(
          resticLine(repo.restic().toString(), repo.env(), "snapshots")))).elements().size());

      // The server goes away; a job ends meanwhile and waits in the outbox.
      server.server().stop();
      Files.writeString(data.resolve("b.txt"), "written while the server is down\n");
      assertTrue(agent.runNow(JobKind.BACKUP));
      await(() -> agent.outbox().size() >= 2, "start and end of the second backup wait in the outbox");
      assertFalse(agent.connected());
      server.restart();
      await(() -> agent.outbox().size() == 0, "the outbox drains after the server is back");
      await(() -> count(jobs(server), "\"status\":\"succeeded\"") == 2, "both backups are stored");
      assertTrue(server.get("/metrics", "metrics-token-abc").body()
          .contains("restic_manager_job_duration_seconds_count{kind=\"backup\",status=\"succeeded\"} 1"),
          "the histogram restarts with the process and counts the delivered job once");
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aRestoreThroughTheAdminApiGivesBackEveryFileByteForByteAndAnIncludeOnlyItsPath() throws Exception {
    Path data = Files.createDirectories(dir.resolve("sample")).toRealPath();
    byte[] random = new byte[300_000];
    new Random(14).nextBytes(random);
    Files.write(data.resolve("random.bin"), random);
    Files.writeString(data.resolve("a name with spaces.txt"), "spaces\n");
    Files.write(data.resolve("empty"), new byte[0]);
    Path nested = Files.createDirectories(data.resolve("nested/deeper"));
    byte[] everyByte = new byte[256 * 64];
    for (int i = 0; i < everyByte.length; i++) everyByte[i] = (byte) i;
    Files.write(nested.resolve("every byte.bin"), everyByte);
    Files.writeString(data.resolve("nested/notes.txt"), "line 1\r\nline 2\n");
    Map<String, String> env = initRepository();

    try (TestServer server = TestServer.start(dir.resolve("server"));
        Agent agent = startAgent(server, "http", data, env)) {
      assertTrue(agent.runNow(JobKind.BACKUP));
      Map<String, Object> backup = awaitJob(server, "backup", j -> true);
      assertEquals("succeeded", backup.get("status"), backup.toString());
      String snapshot = Json.str(Json.obj(backup, "summary"), "snapshot_id");
      String host = Json.str(Json.objects(server.admin("GET", "/api/v1/hosts", null).body()).get(0), "id");
      // restic restores each file under the target at its full original path.
      Path underTarget = Path.of("/").relativize(data);

      Path full = dir.resolve("restored-full");
      Map<String, Object> job = restore(server, host, "{\"kind\":\"restore\",\"target\":\"" + full + "\"}");
      assertEquals("succeeded", job.get("status"), job.toString());
      assertEquals(0.0, Json.num(job, "exit_code"));
      assertSameTree(data, full.resolve(underTarget));

      Path part = dir.resolve("restored-part");
      job = restore(server, host, "{\"kind\":\"restore\",\"snapshot_id\":\"" + snapshot + "\",\"target\":\""
          + part + "\",\"include\":[\"" + data.resolve("nested") + "\"]}");
      assertEquals("succeeded", job.get("status"), job.toString());
      assertSameTree(data.resolve("nested"), part.resolve(underTarget).resolve("nested"));
      try (Stream<Path> top = Files.list(part.resolve(underTarget))) {
        assertEquals(List.of(part.resolve(underTarget).resolve("nested")), top.toList(), "only the included path");
      }

      job = restore(server, host, "{\"kind\":\"restore\",\"snapshot_id\":\"deadbeef\",\"target\":\""
          + dir.resolve("restored-none") + "\"}");
      assertEquals("failed", job.get("status"), job.toString());
      assertEquals(1.0, Json.num(job, "exit_code"));
      assertTrue(Json.str(job, "error").contains("deadbeef"), job.toString());
      assertFalse(Files.exists(dir.resolve("restored-none")));
    }
  }

  /**
   * As an unprivileged user (root reads every file), restic cannot read a file of mode 000: it exits 3
   * and the agent reports {@code warning}. The server raises {@code backup_partial}, sets the last
   * snapshot but not the last success, and, the snapshot counting as a backup, raises no
   * {@code backup_stale} past the maximum age counted from the enrolment.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aFileTheAgentCannotReadMakesAPartialBackupThatKeepsBackupStaleAwayButIsNoSuccess() throws Exception {
    Path restic = Tools.executable("restic");
    boolean root = ((Integer) Files.getAttribute(Files.createFile(dir.resolve("owner")), "unix:uid")) == 0;
    // The tests run as root, for whom no file is unreadable: restic runs as nobody through a wrapper.
    String asNobody = root
        ? "exec " + Tools.executable("setpriv") + " --reuid=65534 --regid=65534 --clear-groups " + restic + " \"$@\""
        : "exec " + restic + " \"$@\"";
    Path wrapper = dir.resolve("restic-as-nobody");
    Files.writeString(wrapper, "#!/bin/sh\n" + asNobody + "\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
    // Where nobody may go: the repository, its cache and password, and the data but one file.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    Path shared = Files.createDirectories(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path password = Files.writeString(shared.resolve("password"), "correct horse battery staple\n");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
    Path data = Files.createDirectories(shared.resolve("data"));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(Files.writeString(data.resolve("readable.txt"), "anyone may read this\n"),
        PosixFilePermissions.fromString("rw-r--r--"));
    Path secret = Files.writeString(data.resolve("secret.txt"), "nobody may read this\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("---------"));
    Map<String, String> resticEnv = Map.of("RESTIC_REPOSITORY", shared.resolve("repo").toString(),
        "RESTIC_PASSWORD_FILE", password.toString(), "RESTIC_CACHE_DIR", shared.resolve("cache").toString(),
        "PATH", System.getenv().getOrDefault("PATH", "/usr/bin"));
    resticLine(wrapper.toString(), resticEnv, "init");

    Duration maxAge = Duration.ofSeconds(20);
    String hocon = "restic-manager.alerts { backup-max-age = " + maxAge.toSeconds() + "s, check-interval = 200ms }\n";
    Map<String, String> serverEnv = Map.of("RM_METRICS_TOKEN", "metrics-token-abc");
    try (TestServer server = TestServer.start(dir.resolve("server"), hocon, serverEnv)) {
      Path agentConf = dir.resolve("agent.conf");
      Files.writeString(agentConf, "restic-manager.agent { restic = \"" + wrapper + "\", schedules.backup.interval = 0s,"
          + " schedules.check.interval = 0s }\n");
      Map<String, String> env = new HashMap<>(resticEnv);
      env.put("RM_SERVER_URL", "http://127.0.0.1:" + server.port());
      env.put("RM_ENROLLMENT_TOKEN", enrollmentToken(server));
      env.put("RM_HOSTNAME", "partial-it");
      env.put("RM_BACKUP_PATHS", data.toString());
      env.put("RM_DATA_DIR", dir.resolve("agent").toString());
      try (Agent agent = Agent.start(AgentSettings.load(Optional.of(agentConf), env), env, new CountDownLatch(1))) {
        Map<String, Object> host = Json.objects(server.admin("GET", "/api/v1/hosts", null).body()).get(0);
        Instant enrolled = Instant.parse(Json.str(host, "enrolled_at"));
        // So that the maximum age from the enrolment passes well before it does from the backup's snapshot.
        Await.until(Duration.ofSeconds(30), () -> Instant.now().isAfter(enrolled.plusSeconds(5)));
        assertTrue(agent.runNow(JobKind.BACKUP));
        await(() -> jobs(server).contains("\"status\":\"warning\""), "the partial backup is stored");
        Map<String, Object> job = Json.objects(jobs(server)).get(0);
        Instant finished = Instant.parse(Json.str(job, "finished_at"));
        assertTrue(Json.str(Json.obj(job, "summary"), "snapshot_id").matches("[0-9a-f]{8,64}"), job.toString());

        Map<String, Object> partial = Await.until(WAIT, () -> alerts(server, "open"), l -> l.size() == 1).get(0);
        assertEquals("backup_partial", partial.get("kind"));
        assertTrue(Json.str(partial, "message").startsWith("backup of host partial-it could not read some files"
            + " (exit code 3)"), partial.toString());

        await(() -> metric(server, "restic_manager_host_snapshots", "partial-it") == 1.0, "statistics after it");
        String body = server.get("/metrics", "metrics-token-abc").body();
        Exposition e = Exposition.parse(body);
        assertEquals(finished.toEpochMilli() / 1000.0,
            e.one("restic_manager_host_last_snapshot_timestamp_seconds", Map.of("host", "partial-it")).number());
        assertTrue(e.named("restic_manager_host_last_success_timestamp_seconds").isEmpty(), body);
        assertEquals(number(resticJson(wrapper.toString(), resticEnv, "stats", "--mode", "raw-data"), "total_size"),
            e.one("restic_manager_host_repository_size_bytes", Map.of("host", "partial-it")).number());

        Instant staleFromEnrolment = enrolled.plus(maxAge).plusSeconds(2);
        assertTrue(finished.plus(maxAge).isAfter(staleFromEnrolment.plusMillis(500)), "the backup ended in time");
        Await.until(Duration.ofSeconds(60), () -> Instant.now().isAfter(staleFromEnrolment));
        List<Map<String, Object>> all = alerts(server, "all");
        assertEquals(List.of("backup_partial"), all.stream().map(a -> a.get("kind")).toList(),
            "no backup_stale, ever: " + all);
      }
    }
  }

  private static List<Map<String, Object>> alerts(TestServer s, String status) throws Exception {
    return Json.objects(s.admin("GET", "/api/v1/alerts?status=" + status, null).body());
  }

  /** The host's sample of a per-host family, or -1 when it has none. */
  private static double metric(TestServer s, String family, String host) {
    try {
      List<Exposition.Sample> found = Exposition.parse(s.get("/metrics", "metrics-token-abc").body()).named(family)
          .stream().filter(x -> host.equals(x.label("host"))).toList();
      return found.isEmpty() ? -1 : found.get(0).number();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The last line restic prints to stdout that starts a JSON value (or its last line). */
  private static String resticLine(String restic, Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(restic, "--json"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    return out.lines().filter(l -> l.startsWith("{") || l.startsWith("[")).reduce((a, b) -> b).orElse(out);
  }

  private static JsObject resticJson(String restic, Map<String, String> env, String... args) throws Exception {
    return (JsObject) JsonParser.apply(ParserInput.apply(resticLine(restic, env, args)));
  }

  private static double number(JsObject o, String key) {
    return ((JsNumber) o.fields().get(key).get()).value().doubleValue();
  }

  /** Runs a restore through the admin API and waits for its end; returns the job as the jobs API shows it. */
  private static Map<String, Object> restore(TestServer server, String host, String body) throws Exception {
    HttpResponse<String> r = server.admin("POST", "/api/v1/hosts/" + host + "/jobs", body);
    assertEquals(202, r.statusCode(), r.body());
    String id = Json.str(Json.object(r.body()), "job_id");
    return awaitJob(server, "restore", j -> id.equals(j.get("id")));
  }

  /** The newest job of {@code kind} that {@code which} picks, once it has ended. */
  private static Map<String, Object> awaitJob(TestServer server, String kind, Predicate<Map<String, Object>> which)
      throws Exception {
    return Await.until(Duration.ofSeconds(60), () -> Json.objects(
            server.admin("GET", "/api/v1/jobs?kind=" + kind, null).body()).stream()
        .filter(which).filter(j -> !"running".equals(j.get("status"))).findFirst().orElse(null), Objects::nonNull);
  }

  /** The same directories and files under both roots, every file with the same bytes. */
  private static void assertSameTree(Path expected, Path actual) throws IOException {
    assertEquals(relativePaths(expected), relativePaths(actual));
    for (Path p : relativePaths(expected)) {
      if (Files.isRegularFile(expected.resolve(p))) {
        assertEquals(-1L, Files.mismatch(expected.resolve(p), actual.resolve(p)), p + " differs");
      }
    }
  }

  private static List<Path> relativePaths(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.map(root::relativize).sorted().toList();
    }
  }

  /** A new repository in {@code dir}; returns restic's variables for it. */
  private Map<String, String> initRepository() throws Exception {
    return ResticRepo.init(dir).env();
  }

  /** The real agent, enrolled at {@code server} as {@code agent-it}, backing up {@code data}, no schedules. */
  private Agent startAgent(TestServer server, String scheme, Path data, Map<String, String> env) throws Exception {
    Path agentConf = dir.resolve("agent.conf");
    Files.writeString(agentConf, """
        restic-manager.agent.schedules.backup.interval = 0s
        restic-manager.agent.schedules.check.interval = 0s
        restic-manager.agent.reconnect { min-backoff = 200ms, max-backoff = 1s }
        """);
    env.put("RM_SERVER_URL", scheme + "://127.0.0.1:" + server.port());
    env.put("RM_ENROLLMENT_TOKEN", enrollmentToken(server));
    env.put("RM_HOSTNAME", "agent-it");
    env.put("RM_BACKUP_PATHS", data.toString());
    env.put("RM_DATA_DIR", dir.resolve("agent").toString());
    return Agent.start(AgentSettings.load(Optional.of(agentConf), env), env, new CountDownLatch(1));
  }

  private static String enrollmentToken(TestServer s) throws Exception {
    return TestServer.field(s.admin("POST", "/api/v1/enrollment-tokens", "{}").body(), "token");
  }

  private static String jobs(TestServer s) {
    try {
      return s.admin("GET", "/api/v1/jobs", null).body();
    } catch (Exception e) {
      return "";
    }
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
    return n;
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }
}
