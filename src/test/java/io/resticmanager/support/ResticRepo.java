package io.resticmanager.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A fresh restic repository for a test, made with the real {@code restic init}: the repository, its password
 * file and the environment restic (and the agent, which passes {@code RESTIC_*} on) needs to use it.
 * Skips or fails the test when restic is missing (see {@link Tools}).
 */
public record ResticRepo(Path restic, Path repository, Path passwordFile) {

  public static ResticRepo init(Path dir) throws Exception {
    Path restic = Tools.executable("restic");
    Path password = dir.resolve("restic-password");
    Files.writeString(password, "correct horse battery staple\n");
    ResticRepo repo = new ResticRepo(restic, dir.resolve("repo"), password);
    ProcessBuilder pb = new ProcessBuilder(restic.toString(), "init").redirectErrorStream(true);
    pb.environment().putAll(repo.env());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "restic init: " + out);
    return repo;
  }

  /** {@code RESTIC_REPOSITORY}, {@code RESTIC_PASSWORD_FILE} and {@code PATH}; a new mutable map. */
  public Map<String, String> env() {
    return new HashMap<>(Map.of("RESTIC_REPOSITORY", repository.toString(), "RESTIC_PASSWORD_FILE",
        passwordFile.toString(), "PATH", System.getenv().getOrDefault("PATH", "/usr/bin")));
  }
}
