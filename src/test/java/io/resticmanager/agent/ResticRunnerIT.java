package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.agents.WireCodec;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.support.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import spray.json.JsArray;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * {@link ResticRunner} against the real {@code restic} and a repository in a temporary directory.
 * Skips without restic unless {@code RM_REQUIRE_TOOLS=1}.
 *
 * <p>The warning case (exit 3) needs a file restic cannot read. Tests run as root, for whom
 * {@code chmod 000} changes nothing, so it backs up {@code /proc/self/mem}: a regular-looking file whose
 * first read fails with EIO for anyone, root included (Linux only).
 */
class ResticRunnerIT {
  @TempDir Path dir;

  private Path restic;
  private Path repo;
  private Path data;
  private Path passwordFile;
  private String password;
  private final List<String> producedFrames = new ArrayList<>();

  @BeforeEach
  void initRepository() throws Exception {
    restic = Tools.executable("restic");
    repo = dir.resolve("repo");
    data = dir.resolve("data");
    Files.createDirectories(data.resolve("sub"));
    for (int i = 0; i < 5; i++) Files.writeString(data.resolve("file-" + i + ".txt"), "content " + i + "\n".repeat(i * 100));
    Files.write(data.resolve("sub/blob.bin"), new byte[200_000]);
    password = "pw-" + UUID.randomUUID();
    passwordFile = dir.resolve("password");
    Files.writeString(passwordFile, password + "\n");
    ProcessBuilder pb = new ProcessBuilder(restic.toString(), "init").redirectErrorStream(true);
    pb.environment().putAll(env(passwordFile));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }

  @AfterEach
  void thePasswordAppearsInNoFrame() {
    for (String f : producedFrames) assertFalse(f.contains(password), "password leaked into " + f);
  }

  private Map<String, String> env(Path pwFile) {
    return Map.of("RESTIC_REPOSITORY", repo.toString(), "RESTIC_PASSWORD_FILE", pwFile.toString(),
        "RESTIC_CACHE_DIR", dir.resolve("cache").toString());
  }

  private ResticRunner runner(List<String> paths, Path pwFile, Duration timeout) {
    return new ResticRunner(restic.toString(), env(pwFile), paths, new ForgetPolicy(0, 0, 7, 0, 0, 0),
        k -> timeout, Clock.systemUTC());
  }

  private JobFinished run(ResticRunner r, JobKind kind, List<JobProgress> progress) {
    JobFinished f = r.run(UUID.randomUUID(), kind, p -> {
      progress.add(p);
      producedFrames.add(WireCodec.encode(p));
    });
    producedFrames.add(WireCodec.encode(f));
    return f;
  }

  private String snapshotsJson() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(restic.toString(), "snapshots", "--json");
    pb.environment().putAll(env(passwordFile));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return out;
  }

  @Test
  void aBackupSucceedsWithItsSummaryAndASnapshotIdThatExistsInTheRepository() throws Exception {
    List<JobProgress> progress = new CopyOnWriteArrayList<>();
    JobFinished f = run(runner(List.of(data.toString()), passwordFile, Duration.ofMinutes(5)), JobKind.BACKUP, progress);

    assertEquals(JobStatus.SUCCEEDED, f.status(), f.toString());
    assertEquals(0, f.exitCode());
    assertTrue(f.error().isEmpty());
    Frame.BackupSummary s = f.summary().orElseThrow();
    assertEquals(6, s.filesNew());
    assertEquals(6, s.totalFilesProcessed());
    assertTrue(s.totalBytesProcessed() >= 200_000);
    assertTrue(s.dataAdded() > 0);
    assertTrue(s.snapshotId().matches("[0-9a-f]{8,64}"), s.snapshotId());
    assertTrue(snapshotsJson().contains("\"id\":\"" + s.snapshotId()), "snapshot " + s.snapshotId() + " is in the repository");
    assertFalse(progress.isEmpty(), "restic's status lines became progress");
  }

  @Test
  void theChecksAndForgetAndPruneSucceedOnAHealthyRepository() {
    ResticRunner r = runner(List.of(data.toString()), passwordFile, Duration.ofMinutes(5));
    assertEquals(JobStatus.SUCCEEDED, run(r, JobKind.BACKUP, new ArrayList<>()).status());
    for (JobKind k : List.of(JobKind.CHECK, JobKind.FORGET, JobKind.PRUNE)) {
      JobFinished f = run(r, k, new ArrayList<>());
      assertEquals(JobStatus.SUCCEEDED, f.status(), k + ": " + f);
      assertTrue(f.summary().isEmpty(), "only a backup has a summary");
    }
  }

  @Test
  void anUnreadableFileMakesAWarningWithASnapshotAndTheFileInTheError() {
    Path unreadable = Path.of("/proc/self/mem");
    Tools.need(Files.exists(unreadable), "Linux /proc/self/mem (a file whose read fails even for root)");
    JobFinished f = run(runner(List.of(data.toString(), unreadable.toString()), passwordFile, Duration.ofMinutes(5)),
        JobKind.BACKUP, new ArrayList<>());

    assertEquals(JobStatus.WARNING, f.status(), f.toString());
    assertEquals(3, f.exitCode());
    assertTrue(f.summary().orElseThrow().snapshotId().matches("[0-9a-f]{8,64}"));
    assertTrue(f.error().orElseThrow().contains("/proc/self/mem"), f.error().toString());
  }

  @Test
  void aWrongPasswordFailsWithResticsComplaintInTheError() throws IOException {
    Path wrong = dir.resolve("wrong-password");
    Files.writeString(wrong, "not-" + password + "\n");
    JobFinished f = run(runner(List.of(data.toString()), wrong, Duration.ofMinutes(5)), JobKind.BACKUP, new ArrayList<>());

    assertEquals(JobStatus.FAILED, f.status(), f.toString());
    assertTrue(f.exitCode() != 0 && f.exitCode() != 3);
    assertTrue(f.error().orElseThrow().contains("wrong password"), f.error().toString());
    assertTrue(f.summary().isEmpty());
  }

  @Test
  void aBackupOverItsTimeoutIsCancelledAndLeavesTheRepositoryUsable() throws Exception {
    // Opening the repository alone (scrypt key derivation) takes longer than 100 ms.
    JobFinished f = run(runner(List.of(data.toString()), passwordFile, Duration.ofMillis(100)), JobKind.BACKUP, new ArrayList<>());
    assertEquals(JobStatus.CANCELLED, f.status(), f.toString());
    assertTrue(f.error().orElseThrow().startsWith("timed out after"));

    JobFinished next = run(runner(List.of(data.toString()), passwordFile, Duration.ofMinutes(5)), JobKind.BACKUP, new ArrayList<>());
    assertEquals(JobStatus.SUCCEEDED, next.status(), "the repository is usable after the kill: " + next);
  }

  @Test
  void theStatisticsAreWhatResticItselfReportsForTheSameRepository() throws Exception {
    ResticRunner r = runner(List.of(data.toString()), passwordFile, Duration.ofMinutes(5));
    assertStatsAsRestic(r.stats(Duration.ofMinutes(5)).orElseThrow(), 0);
    assertEquals(JobStatus.SUCCEEDED, run(r, JobKind.BACKUP, new ArrayList<>()).status());
    Files.writeString(data.resolve("more.txt"), "more\n".repeat(10_000));
    assertEquals(JobStatus.SUCCEEDED, run(r, JobKind.BACKUP, new ArrayList<>()).status());
    assertStatsAsRestic(r.stats(Duration.ofMinutes(5)).orElseThrow(), 2);
  }

  @Test
  void statisticsOfARepositoryThatCannotBeOpenedAreNothing() throws IOException {
    Path wrong = dir.resolve("wrong-password");
    Files.writeString(wrong, "not-" + password + "\n");
    assertEquals(Optional.empty(), runner(List.of(), wrong, Duration.ofMinutes(1)).stats(Duration.ofMinutes(1)));
  }

  /** {@code stats} equals restic's own {@code snapshots --json} count and {@code stats --mode raw-data} sizes. */
  private void assertStatsAsRestic(RepositoryStats stats, int snapshots) throws Exception {
    JsValue list = JsonParser.apply(ParserInput.apply(resticOut("snapshots", "--json")));
    assertEquals(snapshots, ((JsArray) list).elements().size());
    assertEquals(snapshots, stats.snapshotCount());
    JsObject raw = (JsObject) JsonParser.apply(ParserInput.apply(resticOut("stats", "--json", "--mode", "raw-data")));
    assertEquals(((JsNumber) raw.fields().get("total_size").get()).value().longValue(), stats.totalSizeBytes());
    assertTrue(snapshots == 0 || stats.totalSizeBytes() > 0, "something is stored: " + stats);
    var uncompressed = raw.fields().get("total_uncompressed_size");
    assertEquals(uncompressed.isDefined()
            ? OptionalLong.of(((JsNumber) uncompressed.get()).value().longValue()) : OptionalLong.empty(),
        stats.totalUncompressedSizeBytes(), "this restic's raw-data stats: " + raw);
    assertFalse(stats.collectedAt().isAfter(java.time.Instant.now()));
  }

  private String resticOut(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(restic.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env(passwordFile));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), String.join(" ", args) + ": " + out);
    return out.lines().filter(l -> l.startsWith("[") || l.startsWith("{")).reduce((a, b) -> b).orElseThrow();
  }

  @Test
  void theRealResticVersionIsRead() throws Exception {
    String v = runner(List.of(), passwordFile, Duration.ofMinutes(1)).version();
    assertTrue(v.matches("\\d+\\.\\d+\\.\\d+.*"), v);
  }
}
