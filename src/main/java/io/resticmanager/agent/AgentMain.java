package io.resticmanager.agent;

import io.resticmanager.config.ConfigError;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code agent} subcommand: loads {@link AgentSettings}, starts an {@link Agent} and runs until the
 * JVM is asked to stop (SIGTERM, SIGINT), then stops it gracefully. {@code Main} calls
 * {@link #run} and exits with its result. Prints one line on stderr for bad configuration or a refused
 * enrollment, never a token.
 */
public final class AgentMain {
  private static final Logger log = LoggerFactory.getLogger(AgentMain.class);

  private AgentMain() {}

  /**
   * Runs the agent until the JVM shuts down.
   *
   * @param configFile {@code --config FILE}; empty reads {@code ./application.conf} when present
   * @param env the process environment ({@code System.getenv()})
   * @return 0 after a clean stop, 2 for bad configuration or a refused enrollment, 1 for anything else
   */
  public static int run(Optional<Path> configFile, Map<String, String> env) {
    AgentSettings settings;
    try {
      settings = AgentSettings.load(configFile, env);
    } catch (ConfigError e) {
      System.err.println(e.getMessage());
      return 2;
    }
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    long hookWait = settings.stopTimeout().toSeconds() + 60;
    Thread hook = new Thread(() -> {
      stop.countDown();
      try {
        if (stopped.await(hookWait, TimeUnit.SECONDS)) {
          // The JVM would report SIGTERM as 143; the contract says a clean stop is 0. Only the agent
          // runs in this JVM, and it has finished its own cleanup.
          Runtime.getRuntime().halt(0);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "agent-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return runUntil(settings, env, stop);
    } finally {
      stopped.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down already: the hook is running
      }
    }
  }

  /** Runs the agent until {@code stop} is counted down; the testable core of {@link #run}. */
  static int runUntil(AgentSettings settings, Map<String, String> env, CountDownLatch stop) {
    try (Agent agent = Agent.start(settings, env, stop)) {
      log.info("Agent running; data in [{}]", agent.settings().dataDir().toAbsolutePath());
      stop.await();
      return 0;
    } catch (ConfigError e) {
      System.err.println(e.getMessage());
      return 2;
    } catch (Enrollment.Refused e) {
      System.err.println(e.getMessage());
      return 2;
    } catch (Enrollment.Stopped e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    } catch (Exception e) {
      log.error("The agent failed", e);
      System.err.println("agent failed: " + e);
      return 1;
    }
  }
}
