package io.resticmanager;

import io.resticmanager.config.ConfigError;
import io.resticmanager.config.SettingsLoader;
import io.resticmanager.server.Server;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
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
      case "agent", "demo" -> {
        System.err.println("restic-manager: '" + command + "' is not built yet in this version");
        yield FAILED;
      }
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
    // SIGTERM and SIGINT run the coordinated shutdown; main then closes the database and exits 0.
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), sig -> CoordinatedShutdown.get(server.system())
          .runAll(CoordinatedShutdown.jvmExitReason()));
    }
    server.whenTerminated().join();
    server.closeDatabase();
    log.info("Stopped");
    return OK;
  }
}
