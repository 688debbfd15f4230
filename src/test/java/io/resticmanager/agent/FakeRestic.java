package io.resticmanager.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A stand-in {@code restic} for tests of the whole agent: answers {@code version}, fails every job with
 * its password file's name on stderr.
 */
final class FakeRestic {
  private FakeRestic() {}

  static Path write(Path dir) throws IOException {
    Path restic = dir.resolve("restic");
    Files.writeString(restic, """
        #!/bin/sh
        if [ "$1" = version ]; then echo 'restic 0.16.4 compiled with go1.21 on linux/amd64'; exit 0; fi
        echo "password file: $RESTIC_PASSWORD_FILE" >&2
        exit 1
        """);
    Files.setPosixFilePermissions(restic, PosixFilePermissions.fromString("rwx------"));
    return restic;
  }
}
