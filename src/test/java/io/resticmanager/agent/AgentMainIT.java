package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.Ack;
import io.resticmanager.agents.Frame.CommandRun;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.agents.Frame.Welcome;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import io.resticmanager.support.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent as {@code agent} runs it ({@link AgentMain#runUntil}): settings from a config file
 * and {@code RM_*} variables, enrollment, the stored token, the connection and a job, against
 * {@link FakeAgentServer} with a fake {@code restic} script.
 */
class AgentMainIT {
  @TempDir Path dir;
  private FakeAgentServer server;
  private int port;
  private Path restic;

  @BeforeEach
  void start() throws Exception {
    server = new FakeAgentServer("earned-agent-token");
    port = server.start(0);
    restic = FakeRestic.write(dir);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private AgentSettings settings(Map<String, String> env) throws IOException {
    Path conf = dir.resolve("agent.conf");
    Files.writeString(conf, "restic-manager.agent { restic = \"" + restic + "\", schedules.backup.interval = 0s, "
        + "schedules.check.interval = 0s }\n");
    return AgentSettings.load(Optional.of(conf), env);
  }

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("RM_SERVER_URL", "http://127.0.0.1:" + port);
    env.put("RM_ENROLLMENT_TOKEN", "one-time-enrollment");
    env.put("RM_HOSTNAME", "web-01");
    env.put("RM_DATA_DIR", dir.resolve("data").toString());
    env.put("RM_BACKUP_PATHS", dir.toString());
    env.put("RESTIC_PASSWORD_FILE", "/etc/restic/password");
    return env;
  }

  @Test
  void theAgentEnrollsStoresItsTokenPrivatelyConnectsAndRunsACommand() throws Exception {
    Map<String, String> env = env();
    CountDownLatch stop = new CountDownLatch(1);
    AgentSettings s = settings(env);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> AgentMain.runUntil(s, env, stop));

    String enrollBody = server.enrollRequests.poll(20, TimeUnit.SECONDS);
    assertEquals("{\"enrollment_token\":\"one-time-enrollment\",\"hostname\":\"web-01\"}", enrollBody);
    FakeAgentServer.Conn conn = server.accept();
    Hello hello = assertInstanceOf(Hello.class, conn.next());
    assertEquals("0.16.4", hello.resticVersion());
    assertEquals("web-01", hello.hostname());
    assertEquals(1, hello.protocolVersion());

    Path tokenFile = dir.resolve("data/agent-token");
    assertEquals("earned-agent-token", Files.readString(tokenFile).trim());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));

    conn.send(new Welcome("7", "test", 30));
    UUID id = UUID.randomUUID();
    conn.send(new CommandRun(id, JobKind.CHECK));
    assertEquals(id, assertInstanceOf(JobStarted.class, conn.nextEvent()).jobId());
    JobFinished f = assertInstanceOf(JobFinished.class, conn.nextEvent());
    assertEquals(JobStatus.FAILED, f.status());
    assertEquals("password file: /etc/restic/password", f.error().orElseThrow(), "RESTIC_* reach restic");
    conn.send(Ack.started(id));
    conn.send(Ack.finished(id));

    stop.countDown();
    assertEquals(0, exit.get(60, TimeUnit.SECONDS));
    assertEquals(0, Files.list(dir.resolve("data/outbox")).count(), "acked events were removed");
  }

  @Test
  void stoppingReportsTheRunningJobAndTheQueuedOneCancelledBeforeTheConnectionCloses() throws Exception {
    restic = dir.resolve("slow-restic");
    Files.writeString(restic, """
        #!/bin/sh
        if [ "$1" = version ]; then echo 'restic 0.16.4 compiled with go1.21 on linux/amd64'; exit 0; fi
        # Statistics fail at once (reported as nothing); any job runs until it is stopped.
        case "$*" in *snapshots*|*stats*) exit 1;; esac
        sleep 120
        """);
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    Map<String, String> env = env();
    CountDownLatch stop = new CountDownLatch(1);
    AgentSettings s = settings(env);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> AgentMain.runUntil(s, env, stop));
    FakeAgentServer.Conn conn = server.accept();
    assertInstanceOf(Hello.class, conn.next());
    conn.send(new Welcome("7", "test", 30));
    UUID running = UUID.randomUUID();
    UUID queued = UUID.randomUUID();
    conn.send(new CommandRun(running, JobKind.CHECK));
    conn.send(new CommandRun(queued, JobKind.RESTORE, Optional.of(new RestoreSpec("latest", "/srv/r", List.of()))));
    assertEquals(running, assertInstanceOf(JobStarted.class, conn.nextEvent()).jobId());
    conn.send(Ack.started(running));

    stop.countDown();
    Map<UUID, JobFinished> ends = new HashMap<>();
    while (ends.size() < 2) {
      Frame f = conn.nextEvent();
      if (f instanceof JobStarted st) {
        assertEquals(queued, st.jobId());
        conn.send(Ack.started(st.jobId()));
      } else {
        JobFinished end = assertInstanceOf(JobFinished.class, f);
        ends.put(end.jobId(), end);
        conn.send(Ack.finished(end.jobId()));
      }
    }
    assertEquals(JobStatus.CANCELLED, ends.get(running).status());
    assertEquals(JobStatus.CANCELLED, ends.get(queued).status());
    assertEquals(Optional.of("cancelled: the agent is stopping; the job did not start"), ends.get(queued).error());
    assertEquals(0, exit.get(60, TimeUnit.SECONDS));
    assertEquals(0, Files.list(dir.resolve("data/outbox")).count(), "every report was acked before the agent exited");
  }

  @Test
  void aSecondStartUsesTheStoredTokenAndDoesNotEnrollAgain() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Enrollment.store(dir.resolve("data/agent-token"), "earned-agent-token");
    Map<String, String> env = env();
    CountDownLatch stop = new CountDownLatch(1);
    AgentSettings s = settings(env);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> AgentMain.runUntil(s, env, stop));
    FakeAgentServer.Conn conn = server.accept();
    assertInstanceOf(Hello.class, conn.next());
    assertTrue(server.enrollRequests.isEmpty());
    stop.countDown();
    assertEquals(0, exit.get(60, TimeUnit.SECONDS));
  }

  @Test
  void aRefusedEnrollmentExitsTwoNamingTheProblemWithoutTheToken() throws Exception {
    for (int status : new int[] {401, 409}) {
      server.enrollStatus = status;
      server.enrollBody = "{\"error\":\"x\",\"message\":\"no\"}";
      Map<String, String> env = env();
      var err = new java.io.ByteArrayOutputStream();
      var old = System.err;
      int code;
      System.setErr(new java.io.PrintStream(err, true));
      try {
        code = AgentMain.runUntil(settings(env), env, new CountDownLatch(1));
      } finally {
        System.setErr(old);
      }
      assertEquals(2, code);
      String line = err.toString();
      assertTrue(line.contains("(" + status + ")"), line);
      assertTrue(status == 401 ? line.contains("enrollment token") : line.contains("web-01"), line);
      assertFalse(line.contains("one-time-enrollment"), "never print the token: " + line);
      assertFalse(Files.exists(dir.resolve("data/agent-token")));
    }
  }

  @Test
  void noTokenAtAllIsABadConfigurationNamingTheVariable() throws Exception {
    Map<String, String> env = env();
    env.remove("RM_ENROLLMENT_TOKEN");
    var err = new java.io.ByteArrayOutputStream();
    var old = System.err;
    int code;
    System.setErr(new java.io.PrintStream(err, true));
    try {
      code = AgentMain.runUntil(settings(env), env, new CountDownLatch(1));
    } finally {
      System.setErr(old);
    }
    assertEquals(2, code);
    assertTrue(err.toString().contains("RM_ENROLLMENT_TOKEN"), err.toString());
  }

  @Test
  void aResticThatCannotRunIsABadConfigurationNamingTheKey() throws Exception {
    Map<String, String> env = env();
    env.put("RM_SERVER_URL", "http://127.0.0.1:" + port);
    assertEquals(2, AgentMain.run(Optional.of(writeConf("restic-manager.agent.restic = \"" + dir.resolve("none") + "\"")), env));
  }

  @Test
  void aBadValueExitsTwoBeforeAnythingStarts() throws Exception {
    Map<String, String> env = env();
    env.put("RM_SERVER_URL", "gopher://x");
    assertEquals(2, AgentMain.run(Optional.empty(), env));
    assertFalse(Files.exists(dir.resolve("data")));
    assertTrue(server.enrollRequests.isEmpty());
  }

  @Test
  void plainHttpToAHostThatIsNotLoopbackStopsTheAgentSubcommandWithExitTwoAndOneLine() throws Exception {
    Map<String, String> env = Map.of("RM_SERVER_URL", "http://10.20.30.40:8080",
        "RM_ENROLLMENT_TOKEN", "one-time-enrollment", "RM_HOSTNAME", "web-01",
        "RM_DATA_DIR", dir.resolve("data").toString());
    try (ChildProcess agent = ChildProcess.start(dir, env, ChildProcess.FAST_START, "agent")) {
      assertEquals(2, agent.waitFor(Duration.ofSeconds(60)));
      List<String> lines = agent.outputText().lines().filter(l -> !l.isBlank()).toList();
      assertEquals(1, lines.size(), agent.outputText());
      String line = lines.get(0);
      assertTrue(line.contains("(RM_SERVER_URL) = \"http://10.20.30.40:8080\"")
          && line.contains("RM_ALLOW_INSECURE_HTTP=true"), line);
      assertFalse(line.contains("one-time-enrollment"), line);
    }
    assertFalse(Files.exists(dir.resolve("data")));
  }

  private Path writeConf(String text) throws IOException {
    Path p = dir.resolve("other.conf");
    Files.writeString(p, text + "\n");
    return p;
  }

}
