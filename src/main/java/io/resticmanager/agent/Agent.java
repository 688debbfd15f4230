package io.resticmanager.agent;

import io.resticmanager.BuildInfo;
import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.config.ConfigError;
import io.resticmanager.jobs.JobKind;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running agent: wires {@link ResticRunner}, {@link Outbox}, {@link JobQueue}, {@link AgentClient}
 * and {@link JobScheduler} from {@link AgentSettings}, after {@link Enrollment} has produced the agent
 * token. Started by {@link AgentMain} (the {@code agent} subcommand) and usable in-process by the
 * demo; {@link #close()} stops it in order: schedules, then jobs (the running one is cancelled, the queued
 * ones are reported cancelled without running, and every end is stored), then a bounded wait for acks,
 * then the connection.
 *
 * <p>Never holds the repository password: restic gets it from its own environment variables.
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final AgentSettings settings;
  private final Outbox outbox;
  private final JobQueue jobs;
  private final AgentClient client;
  private final JobScheduler scheduler;

  private Agent(AgentSettings settings, Outbox outbox, JobQueue jobs, AgentClient client, JobScheduler scheduler) {
    this.settings = settings;
    this.outbox = outbox;
    this.jobs = jobs;
    this.client = client;
    this.scheduler = scheduler;
  }

  /**
   * Checks restic, enrolls if needed, and starts everything. Blocks only while enrolling against an
   * unreachable server (retried until {@code stop} is counted down).
   *
   * @param env the process environment; {@code RESTIC_*} entries are passed to restic
   * @throws ConfigError restic cannot be run, or no token to enroll with
   * @throws Enrollment.Refused the server refused enrollment (401, 409, …)
   * @throws Enrollment.Stopped {@code stop} was counted down during enrollment
   */
  public static Agent start(AgentSettings s, Map<String, String> env, CountDownLatch stop)
      throws IOException, InterruptedException, Enrollment.Stopped {
    log.info("Starting the agent: {}", s);
    Files.createDirectories(s.dataDir());
    ResticRunner runner = ResticRunner.fromSettings(s, env);
    String resticVersion;
    try {
      resticVersion = runner.version();
    } catch (IOException e) {
      throw new ConfigError(AgentSettings.P + "restic", s.restic(), "cannot run it: " + e.getMessage());
    }
    log.info("restic [{}] at [{}]", resticVersion, s.restic());
    if (s.backupPaths().isEmpty() && s.schedule(JobKind.BACKUP).enabled()) {
      log.warn("No backup paths configured (RM_BACKUP_PATHS): scheduled backups will fail until there are");
    }

    for (URI url : s.serverUrls()) {
      if (AgentSettings.unencryptedOffHost(url)) {
        log.warn("Tokens go to [{}] over plain http, unencrypted (RM_ALLOW_INSECURE_HTTP=true)", url);
      }
    }
    HttpClient http;
    try {
      http = HttpClient.newBuilder().connectTimeout(s.connectTimeout())
          .sslContext(s.serverTrust().sslContext())
          .build();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS with " + s.serverTrust(), e);
    }
    Random random = new Random();
    String token = Enrollment.agentToken(s, http, new Backoff(s.minBackoff(), s.maxBackoff(), random), random, stop);

    Outbox outbox = Outbox.open(s.outboxDir());
    int waiting = outbox.size();
    if (waiting > 0) log.info("[{}] unacked job event(s) in [{}] will be sent first", waiting, outbox.dir());

    Hello hello = new Hello(Frame.PROTOCOL_VERSION, BuildInfo.current().version(), resticVersion, s.hostname(), os());
    JobQueue jobs = new JobQueue(runner, outbox, Clock.systemUTC(), JobQueue.Events.NONE, s.statsInterval());
    AgentClient client = new AgentClient(http, s.webSocketUrls(), random, token, hello, outbox,
        c -> jobs.submit(c.jobId(), c.kind(), c.restore(), JobQueue.Origin.SERVER),
        new Backoff(s.minBackoff(), s.maxBackoff(), random), s.connectTimeout());
    jobs.events(client);
    JobScheduler scheduler = new JobScheduler(s.schedules(),
        (id, kind) -> jobs.submit(id, kind, JobQueue.Origin.SCHEDULE), Clock.systemUTC());
    jobs.start();
    client.start();
    scheduler.start();
    return new Agent(s, outbox, jobs, client, scheduler);
  }

  public AgentSettings settings() {
    return settings;
  }

  public Outbox outbox() {
    return outbox;
  }

  /** Whether the server's {@code welcome} arrived on the current connection. */
  public boolean connected() {
    return client.connected();
  }

  /** Queues a job as if the server had sent {@code command.run}; for the demo. */
  public boolean runNow(JobKind kind) {
    return jobs.submit(java.util.UUID.randomUUID(), kind, JobQueue.Origin.SERVER);
  }

  @Override
  public void close() {
    log.info("Stopping the agent");
    scheduler.close();
    jobs.close(settings.stopTimeout().plusSeconds(25));
    try {
      if (client.connected() && !outbox.awaitEmpty(settings.stopTimeout())) {
        log.info("[{}] job event(s) not acked yet; they stay in the outbox for the next start", outbox.size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    client.close();
    log.info("Agent stopped");
  }

  static String os() {
    String s = (System.getProperty("os.name", "") + " " + System.getProperty("os.version", "")).strip();
    return s.length() > 200 ? s.substring(0, 200) : s;
  }
}
