package io.resticmanager.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code io.resticmanager.Main} in a child JVM on the test classpath, with output captured to a
 * file, for tests of exit codes, signals and logs.
 */
public final class ChildProcess implements AutoCloseable {
  /** JVM options that start a short-lived server about a fifth faster (C1 only, serial GC). */
  public static final List<String> FAST_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  public final Process process;
  public final Path output;

  private ChildProcess(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  public static ChildProcess start(Path workDir, Map<String, String> env, String... args) throws IOException {
    return start(workDir, env, List.of(), args);
  }

  /** As above, with extra JVM options (e.g. {@link #FAST_START}, or another logback file) before the main class. */
  public static ChildProcess start(Path workDir, Map<String, String> env, List<String> jvmOptions, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    // The operator's logging configuration, not the quiet one of the tests (a later option may replace it).
    cmd.add("-Dlogback.configurationFile=" + ChildProcess.class.getResource("/logback.xml"));
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.resticmanager.Main");
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(workDir, "child", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("RM_"));
    pb.environment().putAll(env);
    return new ChildProcess(pb.start(), out);
  }

  /** Waits for exit and returns the exit code; fails the test if it does not exit in time. */
  public int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("process did not exit within " + timeout + "; output:\n" + outputText());
    }
    return process.exitValue();
  }

  public String outputText() {
    try {
      return Files.readString(output);
    } catch (IOException e) {
      return "<unreadable: " + e + ">";
    }
  }

  /** Waits until the output contains {@code text}. */
  public void awaitOutput(String text, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!outputText().contains(text)) {
      if (!process.isAlive()) throw new AssertionError("process exited early; output:\n" + outputText());
      if (System.nanoTime() > deadline) throw new AssertionError("no '" + text + "' within " + timeout + ":\n" + outputText());
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  /** SIGTERM: the graceful stop an operator's service manager sends. */
  public void sigterm() {
    process.destroy();
  }

  /** SIGKILL (kill -9) this child, by its own pid, and wait until it is gone. */
  public void kill9(Duration timeout) throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("process " + process.pid() + " survived SIGKILL for " + timeout);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) process.destroyForcibly();
  }
}
