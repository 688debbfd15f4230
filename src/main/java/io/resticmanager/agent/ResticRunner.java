package io.resticmanager.agent;

import io.resticmanager.agents.Frame.BackupSummary;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;
import spray.json.JsArray;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsString;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * Runs one restic command at a time through {@link ProcessBuilder} with {@code --json} and turns its
 * outcome into a {@code job.finished} frame: exit 0 → succeeded, 3 → warning, killed (by {@link #cancel},
 * its timeout, or SIGINT/SIGTERM/SIGKILL from outside) → cancelled, anything else → failed. The backup's
 * final {@code summary} message becomes the frame's summary, {@code status} messages become
 * {@code job.progress} at most once a second, and the last {@value #STDERR_TAIL_CHARS} chars of stderr
 * become its {@code error}. Used by {@link JobQueue}, which guarantees one job at a time.
 *
 * <p>{@link #stats} reads the repository's statistics for {@code repository.stats}, with restic's
 * {@code --no-lock}; {@link JobQueue} runs it between jobs, and {@link #cancel} stops it like a job.
 *
 * <p>The repository and its password reach restic only through restic's own environment variables
 * ({@code RESTIC_REPOSITORY}, {@code RESTIC_PASSWORD_FILE}, …), inherited or passed in {@code env}; this
 * class never puts them on a command line and never logs the environment. It strips {@code RM_*}
 * variables (the enrollment token among them) from restic's environment. It drains stdout and stderr
 * on their own threads so restic never blocks on a full pipe.
 */
public final class ResticRunner {
  private static final Logger log = LoggerFactory.getLogger(ResticRunner.class);

  /** How much of stderr's end is kept for {@code error}. */
  public static final int STDERR_TAIL_CHARS = 4096;
  /** Exit code reported when restic could not be started at all. */
  public static final int NOT_STARTED = -1;
  private static final Duration TERM_GRACE = Duration.ofSeconds(10);
  private static final Duration DRAIN_WAIT = Duration.ofSeconds(5);
  private static final long PROGRESS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Pattern VERSION = Pattern.compile("restic\\s+v?(\\S+)");

  private final String restic;
  private final Map<String, String> env;
  private final List<String> backupPaths;
  private final ForgetPolicy forget;
  private final Function<JobKind, Duration> timeouts;
  private final Clock clock;
  private final AtomicReference<Running> running = new AtomicReference<>();

  private record Running(Process process, UUID jobId, boolean[] cancelled) {}

  /**
   * @param restic the binary, a name on PATH or a path
   * @param env added to the inherited environment of restic (e.g. {@code RESTIC_REPOSITORY})
   */
  public ResticRunner(String restic, Map<String, String> env, List<String> backupPaths, ForgetPolicy forget,
      Function<JobKind, Duration> timeouts, Clock clock) {
    this.restic = Objects.requireNonNull(restic, "restic");
    this.env = Map.copyOf(env);
    this.backupPaths = List.copyOf(backupPaths);
    this.forget = Objects.requireNonNull(forget, "forget");
    this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Builds a runner from the agent's settings; {@code env} entries starting with {@code RESTIC_} are passed on. */
  public static ResticRunner fromSettings(AgentSettings s, Map<String, String> env) {
    Map<String, String> restic = new java.util.HashMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith("RESTIC_")) restic.put(k, v);
    });
    return new ResticRunner(s.restic(), restic, s.backupPaths(), s.forget(), s::timeout, Clock.systemUTC());
  }

  /** The version restic reports ({@code restic version} → e.g. {@code 0.14.0}). */
  public String version() throws IOException, InterruptedException {
    Process p = start(List.of(restic, "version"));
    p.getOutputStream().close();
    StringBuilder out = new StringBuilder();
    Thread drain = drain(p.getInputStream(), line -> {
      if (out.length() < 4096) out.append(line).append('\n');
    }, "restic-version-out");
    Thread err = drain(p.getErrorStream(), line -> {}, "restic-version-err");
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("'" + restic + " version' did not finish within 30 s");
    }
    drain.join(DRAIN_WAIT.toMillis());
    err.join(DRAIN_WAIT.toMillis());
    Matcher m = VERSION.matcher(out);
    if (p.exitValue() != 0 || !m.find()) {
      throw new IOException("'" + restic + " version' exited " + p.exitValue() + " without a version");
    }
    String v = m.group(1);
    return v.length() > 100 ? v.substring(0, 100) : v;
  }

  /** The command line for {@code kind}, without secrets; empty when this agent cannot run that kind. */
  public Optional<List<String>> command(JobKind kind) {
    return command(kind, Optional.empty());
  }

  /**
   * The command line for {@code kind}, and for a restore what {@code restore} says; without secrets.
   * Empty when it cannot run: a backup without paths, a restore without a valid {@link RestoreSpec}.
   */
  public Optional<List<String>> command(JobKind kind, Optional<RestoreSpec> restore) {
    List<String> cmd = new ArrayList<>(List.of(restic, "--json"));
    switch (kind) {
      case BACKUP -> {
        if (backupPaths.isEmpty()) return Optional.empty();
        cmd.add("backup");
        cmd.add("--");
        cmd.addAll(backupPaths);
      }
      case CHECK -> cmd.add("check");
      case FORGET -> {
        cmd.add("forget");
        cmd.addAll(forget.args());
      }
      case PRUNE -> cmd.add("prune");
      case RESTORE -> {
        if (restore.isEmpty() || restore.get().problem().isPresent()) return Optional.empty();
        RestoreSpec r = restore.get();
        cmd.addAll(List.of("restore", "--target", r.target()));
        for (String path : r.include()) cmd.addAll(List.of("--include", path));
        cmd.addAll(List.of("--", r.snapshotId()));
      }
    }
    return Optional.of(List.copyOf(cmd));
  }

  /**
   * Runs the job to its end (or its timeout) on the calling thread and describes the outcome. Never
   * throws for restic's failures: they become a failed frame.
   */
  public JobFinished run(UUID jobId, JobKind kind, Consumer<JobProgress> progress) {
    return run(jobId, kind, Optional.empty(), progress);
  }

  /** {@link #run(UUID, JobKind, Consumer)} with what a restore job restores. */
  public JobFinished run(UUID jobId, JobKind kind, Optional<RestoreSpec> restore, Consumer<JobProgress> progress) {
    Optional<List<String>> cmd = command(kind, restore);
    if (cmd.isEmpty()) {
      return finished(jobId, JobStatus.FAILED, NOT_STARTED, Optional.of(whyNot(kind, restore)), Optional.empty());
    }
    Duration timeout = timeouts.apply(kind);
    Process p;
    try {
      p = start(cmd.get());
      p.getOutputStream().close();
    } catch (IOException e) {
      return finished(jobId, JobStatus.FAILED, NOT_STARTED,
          Optional.of("cannot start restic [" + restic + "]: " + e.getMessage()), Optional.empty());
    }
    Running r = new Running(p, jobId, new boolean[1]);
    running.set(r);
    log.info("Job [{}]: started restic {} (pid [{}], timeout [{}])", jobId, kind.wire(), p.pid(), timeout);

    Tail stderr = new Tail(STDERR_TAIL_CHARS);
    Stdout stdout = new Stdout(jobId, progress);
    Thread outThread = drain(p.getInputStream(), stdout::line, "restic-out-" + p.pid());
    Thread errThread = drainChars(p.getErrorStream(), stderr, "restic-err-" + p.pid());

    boolean timedOut = false;
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        log.warn("Job [{}]: restic {} ran longer than [{}]; stopping it", jobId, kind.wire(), timeout);
        kill(p);
      }
      outThread.join(DRAIN_WAIT.toMillis());
      errThread.join(DRAIN_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      synchronized (r) {
        r.cancelled()[0] = true;
      }
      kill(p);
    } finally {
      running.compareAndSet(r, null);
    }
    int exit = p.isAlive() ? NOT_STARTED : p.exitValue();
    boolean cancelled;
    synchronized (r) {
      cancelled = r.cancelled()[0];
    }
    JobStatus status;
    if (timedOut || cancelled || killedBySignal(exit)) {
      status = JobStatus.CANCELLED;
    } else if (exit == 0) {
      status = JobStatus.SUCCEEDED;
    } else if (exit == 3) {
      status = JobStatus.WARNING;
    } else {
      status = JobStatus.FAILED;
    }
    String tail = stderr.text();
    Optional<String> error;
    if (timedOut) {
      error = Optional.of(("timed out after " + timeout + "\n" + tail).strip());
    } else if (cancelled) {
      error = Optional.of(("cancelled: the agent is stopping\n" + tail).strip());
    } else if (status == JobStatus.SUCCEEDED) {
      error = Optional.empty();
    } else {
      error = Optional.of(tail.isBlank() ? "restic exited with code " + exit : tail);
    }
    Optional<BackupSummary> summary = kind == JobKind.BACKUP ? stdout.summary() : Optional.empty();
    log.info("Job [{}]: restic {} ended [{}] with exit code [{}]", jobId, kind.wire(), status.wire(), exit);
    return finished(jobId, status, exit, error, summary);
  }

  /** Why {@link #command} has no command line for {@code kind}. */
  private static String whyNot(JobKind kind, Optional<RestoreSpec> restore) {
    if (kind == JobKind.BACKUP) {
      return "no backup paths configured: set RM_BACKUP_PATHS or restic-manager.agent.backup-paths";
    }
    return restore.flatMap(RestoreSpec::problem).map(why -> "the server sent an invalid restore: " + why)
        .orElse("the server sent a restore without a target (a server older than this agent?); nothing was restored");
  }

  /**
   * The repository's statistics: the snapshot count of {@code restic snapshots}, and the stored and (where
   * restic reports it) uncompressed size of {@code restic stats --mode raw-data}, both run with
   * {@code --no-lock} on the calling thread, each stopped after {@code timeout}. Empty, and logged, when
   * either run fails or says something unreadable: a failed run is reported as nothing, never as zeros.
   */
  public Optional<RepositoryStats> stats(Duration timeout) {
    try {
      JsValue snapshots = json(timeout, "snapshots");
      JsValue stats = json(timeout, "stats", "--mode", "raw-data");
      if (!(snapshots instanceof JsArray list)) throw new IOException("'restic snapshots' printed no JSON array");
      if (!(stats instanceof JsObject o)) throw new IOException("'restic stats' printed no JSON object");
      OptionalLong size = size(o, "total_size");
      if (size.isEmpty()) throw new IOException("'restic stats' printed no total_size");
      RepositoryStats s = new RepositoryStats(clock.instant(), list.elements().size(), size.getAsLong(),
          size(o, "total_uncompressed_size"));
      log.info("Repository statistics: [{}] snapshots, [{}] bytes stored", s.snapshotCount(), s.totalSizeBytes());
      return Optional.of(s);
    } catch (IOException e) {
      log.warn("Repository statistics not collected: {}", e.getMessage());
      return Optional.empty();
    }
  }

  /** A non-negative integral number that fits a long; empty when absent, otherwise unreadable is an error. */
  private static OptionalLong size(JsObject o, String key) throws IOException {
    Option<JsValue> v = o.fields().get(key);
    if (v.isEmpty()) return OptionalLong.empty();
    if (v.get() instanceof JsNumber n) {
      BigDecimal d = n.value().bigDecimal();
      try {
        if (d.signum() >= 0) return OptionalLong.of(d.longValueExact());
      } catch (ArithmeticException e) {
        // falls through
      }
    }
    throw new IOException("'restic stats' printed an unreadable " + key + ": " + v.get());
  }

  /**
   * Runs {@code restic --json --no-lock <args>} to its end and parses the last line of its stdout that
   * starts a JSON value.
   */
  private JsValue json(Duration timeout, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(restic, "--json", "--no-lock"));
    cmd.addAll(List.of(args));
    String what = "'restic " + String.join(" ", args) + "'";
    Process p = start(cmd);
    p.getOutputStream().close();
    Running r = new Running(p, null, new boolean[1]);
    running.set(r);
    AtomicReference<String> last = new AtomicReference<>("");
    Tail stderr = new Tail(STDERR_TAIL_CHARS);
    Thread outThread = drain(p.getInputStream(), line -> {
      if (line.startsWith("[") || line.startsWith("{")) last.set(line);
    }, "restic-stats-out-" + p.pid());
    Thread errThread = drainChars(p.getErrorStream(), stderr, "restic-stats-err-" + p.pid());
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(p);
        throw new IOException(what + " ran longer than " + timeout);
      }
      outThread.join(DRAIN_WAIT.toMillis());
      errThread.join(DRAIN_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(p);
      throw new IOException(what + " was interrupted");
    } finally {
      running.compareAndSet(r, null);
    }
    synchronized (r) {
      if (r.cancelled()[0]) throw new IOException(what + " was stopped: the agent is stopping");
    }
    if (p.exitValue() != 0) {
      String err = stderr.text().lines().reduce((a, b) -> b).orElse("");
      throw new IOException(what + " exited " + p.exitValue() + (err.isEmpty() ? "" : ": " + err));
    }
    try {
      return JsonParser.apply(ParserInput.apply(last.get()));
    } catch (RuntimeException e) {
      throw new IOException(what + " printed no JSON");
    }
  }

  /** Stops the running job or statistics run, if any; a job ends as {@code cancelled}. Safe from any thread. */
  public void cancel() {
    Running r = running.get();
    if (r == null) return;
    synchronized (r) {
      r.cancelled()[0] = true;
    }
    log.info("Job [{}]: cancelling restic (pid [{}])", r.jobId() == null ? "statistics" : r.jobId(), r.process().pid());
    kill(r.process());
  }

  /** True while restic runs. */
  public boolean busy() {
    return running.get() != null;
  }

  private JobFinished finished(UUID id, JobStatus s, int exit, Optional<String> error, Optional<BackupSummary> summary) {
    return new JobFinished(id, s, clock.instant(), exit, error, summary);
  }

  private Process start(List<String> cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("RM_"));
    e.putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return pb.start();
  }

  /** SIGTERM (restic removes its lock), then SIGKILL after a grace period; children go too. */
  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Java reports death by signal n as 128 + n; SIGINT, SIGKILL and SIGTERM mean someone stopped restic. */
  static boolean killedBySignal(int exit) {
    return exit == 128 + 2 || exit == 128 + 9 || exit == 128 + 15;
  }

  private static Thread drain(InputStream in, Consumer<String> lines, String name) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) lines.accept(line);
      } catch (IOException | RuntimeException e) {
        log.debug("Draining [{}] stopped", name, e);
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static Thread drainChars(InputStream in, Tail tail, String name) {
    Thread t = new Thread(() -> {
      try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        char[] buf = new char[4096];
        int n;
        while ((n = r.read(buf)) >= 0) tail.append(buf, n);
      } catch (IOException e) {
        log.debug("Draining [{}] stopped", name, e);
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** The last {@code max} chars written, cut at a line start when it was cut at all. */
  static final class Tail {
    private final int max;
    private final StringBuilder sb = new StringBuilder();
    private boolean cut;

    Tail(int max) {
      this.max = max;
    }

    synchronized void append(char[] buf, int n) {
      sb.append(buf, 0, n);
      if (sb.length() > 2 * max) {
        sb.delete(0, sb.length() - max);
        cut = true;
      }
    }

    synchronized String text() {
      String s = sb.toString();
      if (s.length() > max) {
        s = s.substring(s.length() - max);
        cut = true;
      }
      if (cut) {
        int nl = s.indexOf('\n');
        if (nl >= 0 && nl < s.length() - 1) s = s.substring(nl + 1);
      }
      return s.strip();
    }
  }

  /** Reads restic's JSON lines: keeps the last summary, forwards status at most once a second. */
  private static final class Stdout {
    private final UUID jobId;
    private final Consumer<JobProgress> progress;
    private long lastProgress = System.nanoTime() - PROGRESS_EVERY_NANOS;
    private volatile BackupSummary summary;

    Stdout(UUID jobId, Consumer<JobProgress> progress) {
      this.jobId = jobId;
      this.progress = progress;
    }

    void line(String line) {
      if (!line.startsWith("{")) return;
      boolean status = line.contains("\"message_type\":\"status\"");
      if (status) {
        long now = System.nanoTime();
        if (now - lastProgress < PROGRESS_EVERY_NANOS) return;
        lastProgress = now;
      } else if (!line.contains("\"message_type\":\"summary\"")) {
        return;
      }
      JsObject o;
      try {
        JsValue v = JsonParser.apply(ParserInput.apply(line));
        if (!(v instanceof JsObject obj)) return;
        o = obj;
      } catch (RuntimeException e) {
        return;
      }
      if (status) {
        double pct = Math.max(0, Math.min(1, dbl(o, "percent_done")));
        try {
          progress.accept(new JobProgress(jobId, pct, lng(o, "bytes_done"), lng(o, "files_done")));
        } catch (RuntimeException e) {
          log.warn("Job [{}]: progress consumer failed", jobId, e);
        }
      } else {
        Optional<String> snap = str(o, "snapshot_id");
        if (snap.isEmpty()) return; // a summary of a command other than backup
        summary = new BackupSummary(lng(o, "files_new"), lng(o, "files_changed"), lng(o, "files_unmodified"),
            lng(o, "data_added"), lng(o, "total_files_processed"), lng(o, "total_bytes_processed"),
            dbl(o, "total_duration"), snap.get());
      }
    }

    Optional<BackupSummary> summary() {
      return Optional.ofNullable(summary);
    }
  }

  private static double dbl(JsObject o, String k) {
    Option<JsValue> v = o.fields().get(k);
    if (v.isDefined() && v.get() instanceof JsNumber n) {
      double d = n.value().doubleValue();
      return Double.isFinite(d) ? d : 0;
    }
    return 0;
  }

  private static long lng(JsObject o, String k) {
    Option<JsValue> v = o.fields().get(k);
    if (v.isDefined() && v.get() instanceof JsNumber n) {
      double d = n.value().doubleValue();
      return d <= 0 || !Double.isFinite(d) ? 0 : d >= Long.MAX_VALUE ? Long.MAX_VALUE : n.value().longValue();
    }
    return 0;
  }

  private static Optional<String> str(JsObject o, String k) {
    Option<JsValue> v = o.fields().get(k);
    if (v.isDefined() && v.get() instanceof JsString s && !s.value().isEmpty()) {
      String id = s.value();
      return Optional.of(id.length() > 128 ? id.substring(0, 128) : id);
    }
    return Optional.empty();
  }
}
