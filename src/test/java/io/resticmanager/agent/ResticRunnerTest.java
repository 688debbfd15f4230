package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exit-code mapping, stderr tail, progress throttling, timeout and cancel of {@link ResticRunner},
 * driven by a fake {@code restic} shell script so every outcome is exact. {@code ResticRunnerIT}
 * covers the real restic.
 */
class ResticRunnerTest {
  @TempDir Path dir;

  private static final String SUMMARY = "{\"message_type\":\"summary\",\"files_new\":2,\"files_changed\":1,"
      + "\"files_unmodified\":3,\"dirs_new\":1,\"data_added\":1024,\"total_files_processed\":6,"
      + "\"total_bytes_processed\":4096,\"total_duration\":1.5,\"snapshot_id\":\"abcd1234\"}";

  private Path script(String body) throws IOException {
    Path p = dir.resolve("restic-" + UUID.randomUUID());
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    return p;
  }

  private ResticRunner runner(Path restic, Duration timeout) {
    return new ResticRunner(restic.toString(), Map.of("RESTIC_REPOSITORY", dir.resolve("repo").toString()),
        List.of(dir.toString()), new ForgetPolicy(0, 0, 7, 4, 0, 0), k -> timeout, Clock.systemUTC());
  }

  private JobFinished backup(String body) throws IOException {
    return runner(script(body), Duration.ofSeconds(30)).run(UUID.randomUUID(), JobKind.BACKUP, p -> {});
  }

  @Test
  void exitZeroSucceedsWithTheSummaryAndNoError() throws IOException {
    JobFinished f = backup("echo '" + SUMMARY + "'; echo 'harmless note' >&2; exit 0");
    assertEquals(JobStatus.SUCCEEDED, f.status());
    assertEquals(0, f.exitCode());
    assertTrue(f.error().isEmpty());
    var s = f.summary().orElseThrow();
    assertEquals(2, s.filesNew());
    assertEquals(1, s.filesChanged());
    assertEquals(3, s.filesUnmodified());
    assertEquals(1024, s.dataAdded());
    assertEquals(6, s.totalFilesProcessed());
    assertEquals(4096, s.totalBytesProcessed());
    assertEquals(1.5, s.totalDuration());
    assertEquals("abcd1234", s.snapshotId());
  }

  @Test
  void exitThreeIsAWarningThatKeepsTheSummaryAndTheStderrTail() throws IOException {
    JobFinished f = backup("echo '" + SUMMARY + "'; echo 'error: read /srv/locked: input/output error' >&2; exit 3");
    assertEquals(JobStatus.WARNING, f.status());
    assertEquals(3, f.exitCode());
    assertEquals("error: read /srv/locked: input/output error", f.error().orElseThrow());
    assertEquals("abcd1234", f.summary().orElseThrow().snapshotId());
  }

  @Test
  void anyOtherExitCodeFailsWithTheStderrTail() throws IOException {
    for (int code : new int[] {1, 2, 10, 12, 255}) {
      JobFinished f = backup("echo 'Fatal: repository does not exist' >&2; exit " + code);
      assertEquals(JobStatus.FAILED, f.status(), "exit " + code);
      assertEquals(code, f.exitCode());
      assertEquals("Fatal: repository does not exist", f.error().orElseThrow());
      assertTrue(f.summary().isEmpty());
    }
  }

  @Test
  void aFailureWithoutStderrStillSaysWhy() throws IOException {
    assertEquals("restic exited with code 1", backup("exit 1").error().orElseThrow());
  }

  @Test
  void resticKilledByASignalIsCancelled() throws IOException {
    JobFinished f = backup("kill -TERM $$; sleep 5");
    assertEquals(JobStatus.CANCELLED, f.status());
    assertEquals(143, f.exitCode());
  }

  @Test
  void aJobOverItsTimeoutIsStoppedAndCancelled() throws IOException {
    long t0 = System.nanoTime();
    JobFinished f = runner(script("echo 'started' >&2; exec sleep 30"), Duration.ofMillis(300))
        .run(UUID.randomUUID(), JobKind.CHECK, p -> {});
    assertEquals(JobStatus.CANCELLED, f.status());
    assertTrue(f.error().orElseThrow().startsWith("timed out after PT0.3S"), f.error().toString());
    assertTrue(f.error().orElseThrow().contains("started"));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "did not wait for sleep 30");
  }

  @Test
  void cancelStopsTheRunningJobAsCancelled() throws Exception {
    Path marker = dir.resolve("running");
    ResticRunner r = runner(script("touch '" + marker + "'; exec sleep 30"), Duration.ofMinutes(5));
    CompletableFuture<JobFinished> f = CompletableFuture.supplyAsync(() -> r.run(UUID.randomUUID(), JobKind.PRUNE, p -> {}));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!(Files.exists(marker) && r.busy()) && System.nanoTime() < deadline) Thread.onSpinWait();
    assertTrue(r.busy(), "restic did not start");
    r.cancel();
    JobFinished end = f.get(30, TimeUnit.SECONDS);
    assertEquals(JobStatus.CANCELLED, end.status());
    assertFalse(r.busy());
  }

  @Test
  void onlyTheLastFourKibOfAHugeStderrAreKeptAndNothingBlocks() throws IOException {
    // 2 MiB on each pipe: far above the 64 KiB pipe buffer, so an undrained pipe would hang the script.
    JobFinished f = backup("i=0; while [ $i -lt 2048 ]; do "
        + "printf '%01000d\\n' $i; printf 'line %04d %01000d\\n' $i 0 >&2; i=$((i+1)); done; "
        + "echo 'the very last line' >&2; exit 1");
    String err = f.error().orElseThrow();
    assertTrue(err.length() <= ResticRunner.STDERR_TAIL_CHARS, "kept " + err.length() + " chars");
    assertTrue(err.endsWith("the very last line"));
    assertTrue(err.startsWith("line "), "the tail starts at a line boundary");
  }

  @Test
  void statusMessagesBecomeProgressAtMostOncePerSecond() throws IOException {
    List<JobProgress> seen = new CopyOnWriteArrayList<>();
    long t0 = System.nanoTime();
    JobFinished f = runner(script("i=0; while [ $i -lt 3000 ]; do "
        + "echo '{\"message_type\":\"status\",\"percent_done\":0.5,\"total_files\":10,\"files_done\":5,"
        + "\"total_bytes\":100,\"bytes_done\":50}'; i=$((i+1)); done; echo '" + SUMMARY + "'"), Duration.ofMinutes(1))
        .run(UUID.randomUUID(), JobKind.BACKUP, seen::add);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertEquals(JobStatus.SUCCEEDED, f.status());
    assertFalse(seen.isEmpty(), "the first status is passed on at once");
    assertTrue(seen.size() <= seconds + 1, seen.size() + " progress frames in " + seconds + " s");
    JobProgress p = seen.get(0);
    assertEquals(0.5, p.percentDone());
    assertEquals(50, p.bytesDone());
    assertEquals(5, p.filesDone());
  }

  @Test
  void resticGetsItsEnvironmentVariablesAndTheCommandLineHasNoSecret() throws IOException {
    ResticRunner r = new ResticRunner(script("echo \"repo=$RESTIC_REPOSITORY args=$*\" >&2; exit 1").toString(),
        Map.of("RESTIC_REPOSITORY", "/srv/repo", "RESTIC_PASSWORD", "hunter2"), List.of("/etc", "/home"),
        new ForgetPolicy(3, 0, 7, 4, 12, 1), k -> Duration.ofMinutes(1), Clock.systemUTC());
    JobFinished f = r.run(UUID.randomUUID(), JobKind.FORGET, p -> {});
    assertEquals("repo=/srv/repo args=--json forget --keep-last 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 1",
        f.error().orElseThrow());
    assertEquals(List.of("--json", "backup", "--", "/etc", "/home"), r.command(JobKind.BACKUP).orElseThrow().subList(1, 6));
    for (JobKind k : JobKind.values()) {
      r.command(k).ifPresent(cmd -> assertFalse(String.join(" ", cmd).contains("hunter2")));
    }
  }

  @Test
  void aMissingBinaryNoBackupPathsAndRestoreFailWithoutRunningAnything() {
    ResticRunner missing = new ResticRunner(dir.resolve("nope").toString(), Map.of(), List.of("/etc"),
        ForgetPolicy.NONE, k -> Duration.ofMinutes(1), Clock.systemUTC());
    JobFinished a = missing.run(UUID.randomUUID(), JobKind.CHECK, p -> {});
    assertEquals(JobStatus.FAILED, a.status());
    assertEquals(ResticRunner.NOT_STARTED, a.exitCode());
    assertTrue(a.error().orElseThrow().startsWith("cannot start restic"));

    ResticRunner noPaths = new ResticRunner("restic", Map.of(), List.of(), ForgetPolicy.NONE,
        k -> Duration.ofMinutes(1), Clock.systemUTC());
    JobFinished b = noPaths.run(UUID.randomUUID(), JobKind.BACKUP, p -> {});
    assertEquals(JobStatus.FAILED, b.status());
    assertTrue(b.error().orElseThrow().contains("RM_BACKUP_PATHS"));

  }

  @Test
  void aRestoreRunsResticRestoreWithItsTargetIncludesAndSnapshotUnderTheRestoreTimeout() throws IOException {
    Path args = dir.resolve("args");
    ResticRunner r = new ResticRunner(script("printf '%s\\n' \"$@\" > '" + args + "'; sleep 30").toString(), Map.of(),
        List.of("/etc"), ForgetPolicy.NONE, k -> k == JobKind.RESTORE ? Duration.ofMillis(300) : Duration.ofHours(1),
        Clock.systemUTC());
    RestoreSpec restore = new RestoreSpec("a1b2c3d4", "/srv/re store", List.of("/etc/nginx", "/home/a b"));
    JobFinished f = r.run(UUID.randomUUID(), JobKind.RESTORE, Optional.of(restore), p -> {});

    assertEquals(List.of("--json", "restore", "--target", "/srv/re store", "--include", "/etc/nginx", "--include",
        "/home/a b", "--", "a1b2c3d4"), Files.readAllLines(args), "one argument each, spaces kept");
    assertEquals(JobStatus.CANCELLED, f.status());
    assertTrue(f.error().orElseThrow().startsWith("timed out after PT0.3S"), f.error().orElseThrow());
  }

  @Test
  void aRestoreWithoutATargetOrWithAnInvalidOneFailsWithoutRunningRestic() throws IOException {
    Path ran = dir.resolve("ran");
    ResticRunner r = runner(script("touch '" + ran + "'"), Duration.ofMinutes(1));

    JobFinished old = r.run(UUID.randomUUID(), JobKind.RESTORE, Optional.empty(), p -> {});
    assertEquals(JobStatus.FAILED, old.status());
    assertEquals(ResticRunner.NOT_STARTED, old.exitCode());
    assertEquals("the server sent a restore without a target (a server older than this agent?); nothing was restored",
        old.error().orElseThrow());

    JobFinished bad = r.run(UUID.randomUUID(), JobKind.RESTORE,
        Optional.of(new RestoreSpec("latest", "/srv/../etc", List.of())), p -> {});
    assertEquals(JobStatus.FAILED, bad.status());
    assertEquals(ResticRunner.NOT_STARTED, bad.exitCode());
    assertEquals("the server sent an invalid restore: invalid field \"target\": must not contain '.' or '..' segments",
        bad.error().orElseThrow());
    assertFalse(Files.exists(ran), "restic never ran");
  }

  @Test
  void theVersionIsReadFromResticVersion() throws Exception {
    ResticRunner r = runner(script("echo 'restic 0.17.3 compiled with go1.23.1 on linux/amd64'"), Duration.ofMinutes(1));
    assertEquals("0.17.3", r.version());
  }

  // ---------------------------------------------------------------- repository statistics

  /** A restic that logs its arguments and answers {@code snapshots} and {@code stats} with the given text. */
  private ResticRunner statsRunner(String snapshots, String stats) throws IOException {
    Path restic = script("echo \"$@\" >> '" + dir.resolve("args") + "'\n"
        + "case \"$*\" in\n"
        + "  *snapshots*) " + snapshots + " ;;\n"
        + "  *stats*) " + stats + " ;;\n"
        + "esac");
    return new ResticRunner(restic.toString(), Map.of(), List.of(), ForgetPolicy.NONE, k -> Duration.ofMinutes(1),
        Clock.fixed(Instant.parse("2025-03-01T02:00:00Z"), ZoneOffset.UTC));
  }

  private static final String TWO_SNAPSHOTS = "echo '[{\"id\":\"a\",\"paths\":[\"/x\"]},{\"id\":\"b\"}]'";

  @Test
  void statisticsCountTheSnapshotsAndReadTheSizesWithoutALock() throws IOException {
    ResticRunner r = statsRunner(TWO_SNAPSHOTS, "echo 'scanning...'; echo '{\"total_size\":123456789012,"
        + "\"total_uncompressed_size\":234567890123,\"compression_ratio\":1.9,\"snapshots_count\":2}'");
    assertEquals(Optional.of(new RepositoryStats(Instant.parse("2025-03-01T02:00:00Z"), 2, 123_456_789_012L,
        OptionalLong.of(234_567_890_123L))), r.stats(Duration.ofSeconds(30)));
    assertEquals(List.of("--json --no-lock snapshots", "--json --no-lock stats --mode raw-data"),
        Files.readAllLines(dir.resolve("args")));
  }

  @Test
  void statisticsWithoutAnUncompressedSizeLeaveItOut() throws IOException {
    ResticRunner r = statsRunner("echo '[]'", "echo '{\"total_size\":0,\"snapshots_count\":0}'");
    assertEquals(Optional.of(new RepositoryStats(Instant.parse("2025-03-01T02:00:00Z"), 0, 0, OptionalLong.empty())),
        r.stats(Duration.ofSeconds(30)));
  }

  @Test
  void aFailedOrUnreadableStatisticsRunIsNothingNotZeros() throws IOException {
    String okStats = "echo '{\"total_size\":10}'";
    for (String[] c : new String[][] {
        {"echo 'Fatal: unable to open repository' >&2; exit 1", okStats},
        {TWO_SNAPSHOTS, "echo 'Fatal: wrong password' >&2; exit 1"},
        {"echo 'not json'", okStats},
        {"echo '{\"id\":\"a\"}'", okStats},
        {TWO_SNAPSHOTS, "echo '{\"snapshots_count\":2}'"},
        {TWO_SNAPSHOTS, "echo '{\"total_size\":-5}'"},
        {TWO_SNAPSHOTS, "echo '{\"total_size\":1.5}'"},
        {TWO_SNAPSHOTS, "echo '{\"total_size\":99999999999999999999}'"},
        {TWO_SNAPSHOTS, "echo '{\"total_size\":10,\"total_uncompressed_size\":\"big\"}'"},
        {TWO_SNAPSHOTS, "exit 0"}}) {
      assertEquals(Optional.empty(), statsRunner(c[0], c[1]).stats(Duration.ofSeconds(30)), String.join(" / ", c));
    }
  }

  @Test
  void aStatisticsRunOverItsTimeIsStoppedAndIsNothing() throws IOException {
    ResticRunner r = statsRunner("sleep 30; echo '[]'", "echo '{\"total_size\":10}'");
    long start = System.nanoTime();
    assertEquals(Optional.empty(), r.stats(Duration.ofMillis(300)));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15), "stopped, not waited for");
    assertFalse(r.busy());
  }
}
