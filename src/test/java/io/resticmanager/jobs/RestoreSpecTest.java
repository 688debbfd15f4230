package io.resticmanager.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RestoreSpecTest {

  private static Optional<String> problem(String snapshot, String target, String... include) {
    return new RestoreSpec(snapshot, target, List.of(include)).problem();
  }

  @ParameterizedTest
  @ValueSource(strings = {"latest", "a1b2c3d4", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
  void latestAndHexSnapshotIdsOfEightToSixtyFourDigitsAreAccepted(String id) {
    assertEquals(Optional.empty(), problem(id, "/srv/restore", "/etc", "/home/a b/c"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "Latest", "a1b2c3d", "A1B2C3D4", "a1b2c3d4-", "latest:/etc", "--help",
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"})
  void anythingElseAsSnapshotIsNamed(String id) {
    assertEquals(Optional.of("invalid field \"snapshot_id\": must be \"latest\" or a snapshot id of 8 to 64 "
        + "lower-case hex digits"), problem(id, "/srv/restore"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''|must be an absolute path",
      "srv/restore|must be an absolute path",
      "-/x|must be an absolute path",
      "/srv/../etc|must not contain '.' or '..' segments",
      "/srv/..|must not contain '.' or '..' segments",
      "/./srv|must not contain '.' or '..' segments",
      "/srv/a\u0000b|must not contain NUL"})
  void aTargetOrIncludeThatIsNotANormalAbsolutePathIsNamed(String path, String why) {
    assertEquals(Optional.of("invalid field \"target\": " + why), problem("latest", path));
    assertEquals(Optional.of("invalid field \"include\": " + why), problem("latest", "/srv", "/etc", path));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/srv/restore/", "//srv", "/srv/..hidden", "/srv/.x", "/a b/ü/*.conf"})
  void otherAbsolutePathsAreAccepted(String path) {
    assertEquals(Optional.empty(), problem("latest", path, path));
  }

  @ParameterizedTest
  @CsvSource({"4096, ''", "4097, 'invalid field \"target\": longer than 4096 chars'"})
  void pathsAreBoundedInLength(int length, String expected) {
    String path = "/" + "a".repeat(length - 1);
    assertEquals(expected.isEmpty() ? Optional.empty() : Optional.of(expected), problem("latest", path));
  }

  @ParameterizedTest
  @CsvSource({"100, ''", "101, 'invalid field \"include\": more than 100 paths'"})
  void includesAreBoundedInNumber(int count, String expected) {
    Optional<String> p = new RestoreSpec("latest", "/t", Collections.nCopies(count, "/etc")).problem();
    assertEquals(expected.isEmpty() ? Optional.empty() : Optional.of(expected), p);
  }
}
