package io.resticmanager;

import io.resticmanager.agent.AgentMain;
import io.resticmanager.config.ConfigError;
import io.resticmanager.config.SettingsLoader;
import io.resticmanager.demo.Demo;
import io.resticmanager.server.Server;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Command line entry point: {@code serve | agent | demo | version}, each with an optional
 * {@code --config FILE}. Exit codes: 0 clean stop (SIGTERM included), 2 bad configuration or arguments
 * (one stderr line naming the key and the value), 1 anything else.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  static final int OK = 0;
  static final int FAILED = 1;
  static final int BAD_CONFIG = 2;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: restic-manager serve|agent|demo|version [--config FILE]");
      return BAD_CONFIG;
    }
    String command = args[0];
    Optional<Path> config;
    try {
      config = configOption(Arrays.asList(args).subList(1, args.length));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return BAD_CONFIG;
    }
    return switch (command) {
      case "version" -> version();
      case "serve" -> serve(config);
      case "agent" -> AgentMain.run(config, System.getenv());
      case "demo" -> demo(config);
      default -> {
        System.err.println("invalid argument: command = \"" + command + "\": must be serve, agent, demo or version");
        yield BAD_CONFIG;
      }
    };
  }

  static Optional<Path> configOption(List<String> rest) {
    if (rest.isEmpty()) return Optional.empty();
    if (rest.size() == 2 && rest.get(0).equals("--config")) return Optional.of(Path.of(rest.get(1)));
    throw new IllegalArgumentException("invalid argument: \"" + String.join(" ", rest)
        + "\": the only option is --config FILE");
  }

  private static int demo(Optional<Path> config) {
    CountDownLatch stop = new CountDownLatch(1);
    Demo demo = new Demo(System.getenv(), System.out);
    Demo.Running running;
    try {
      running = demo.start(config, stop);
    } catch (ConfigError e) {
      System.err.println(e.getMessage());
      return BAD_CONFIG;
    } catch (Exception e) {
      log.error("Cannot start the demo: {}", e.getMessage());
      System.err.println("restic-manager demo: cannot start: " + e.getMessage());
      return FAILED;
    }
    onStopSignal(stop::countDown);
    demo.printBanner(running, running.demoDir().getParent(), System.getenv().containsKey("RM_ADMIN_TOKEN"));
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    running.close();
    log.info("Demo stopped");
    return OK;
  }

  /** SIGTERM and SIGINT run {@code action} instead of killing the JVM, so main can stop in order. */
  private static void onStopSignal(Runnable action) {
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), sig -> action.run());
    }
  }

  private static int version() {
    BuildInfo b = BuildInfo.current();
    System.out.println("restic-manager " + b.version() + " (revision " + b.revision() + ", Java " + b.javaVersion() + ")");
    return OK;
  }

  private static int serve(Optional<Path> config) {
    SettingsLoader.Loaded loaded;
    try {
      loaded = SettingsLoader.load(config, System.getenv());
    } catch (ConfigError e) {
      System.err.println(e.getMessage());
      return BAD_CONFIG;
    }
    Server server;
    try {
      server = Server.start(loaded);
    } catch (Exception e) {
      log.error("Cannot start: {}", e.getMessage());
      System.err.println("restic-manager: cannot start: " + e.getMessage());
      return FAILED;
    }
    // The coordinated shutdown stops the server; main then closes the database and exits 0. A stop nobody
    // asked for (the cluster downed this node: it was on the minority side of a partition, or unreachable
    // too long) exits 1, so that the service manager starts it again and it rejoins.
    AtomicBoolean asked = new AtomicBoolean();
    onStopSignal(() -> {
      asked.set(true);
      CoordinatedShutdown.get(server.system()).runAll(CoordinatedShutdown.jvmExitReason());
    });
    server.whenTerminated().join();
    server.closeDatabase();
    if (!asked.get()) {
      log.error("Stopped without being asked to ({}); exiting with 1 so that it is started again",
          CoordinatedShutdown.get(server.system()).getShutdownReason().map(Object::toString).orElse("no reason given"));
      return FAILED;
    }
    log.info("Stopped");
    return OK;
  }
}
