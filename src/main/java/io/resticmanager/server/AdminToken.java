package io.resticmanager.server;

import io.resticmanager.config.Settings;
import io.resticmanager.store.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's bearer token: {@code RM_ADMIN_TOKEN} when set, otherwise generated once into
 * {@code <data dir>/admin-token} (created 0600 before the secret is written) and read from there on
 * every later start. Logs where the token is, never the token.
 */
public final class AdminToken {
  private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
  static final String FILE_NAME = "admin-token";

  private AdminToken() {}

  public static String resolve(Settings settings) throws IOException {
    if (settings.adminToken().isPresent()) {
      log.info("Admin token taken from the configuration (RM_ADMIN_TOKEN or restic-manager.admin-token)");
      return settings.adminToken().get();
    }
    Path file = settings.dataDir().resolve(FILE_NAME);
    if (!Files.exists(file)) {
      String token = Tokens.newToken();
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        Files.writeString(file, token + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        log.info("Admin token generated into [{}] (mode 0600)", file.toAbsolutePath());
        return token;
      } catch (FileAlreadyExistsException raced) {
        // another process created it first: read theirs below
      }
    }
    String token = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (token.isEmpty()) throw new IOException("admin token file " + file.toAbsolutePath() + " is empty");
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
      log.warn("Admin token file [{}] is readable by others; chmod 600 it", file.toAbsolutePath());
    }
    log.info("Admin token read from [{}]", file.toAbsolutePath());
    return token;
  }
}
