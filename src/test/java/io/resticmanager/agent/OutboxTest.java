package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.BackupSummary;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.agents.WireCodec;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutboxTest {
  @TempDir Path dir;

  private static final Instant T = Instant.parse("2025-03-01T02:00:00Z");

  private static JobStarted started(UUID id) {
    return new JobStarted(id, JobKind.BACKUP, T);
  }

  private static JobFinished finished(UUID id) {
    return new JobFinished(id, JobStatus.SUCCEEDED, T.plusSeconds(42), 0, Optional.empty(),
        Optional.of(new BackupSummary(1, 2, 3, 4, 5, 6, 7.5, "a1b2c3d4")));
  }

  @Test
  void appendedEventsAreListedInAppendOrderWithTheirContent() throws IOException {
    Outbox o = Outbox.open(dir);
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    o.append(started(a));
    o.append(started(b));
    o.append(finished(a));
    List<Frame> frames = o.list().stream().map(e -> (Frame) e.frame()).toList();
    assertEquals(List.of(started(a), started(b), finished(a)), frames);
    assertEquals(3, o.size());
  }

  @Test
  void aNewOutboxOnTheSameDirectorySeesTheSameEntriesInOrderAndAppendsAfterThem() throws IOException {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    Outbox first = Outbox.open(dir);
    for (int i = 0; i < 12; i++) first.append(started(UUID.randomUUID())); // sequence past one digit
    first.append(started(a));
    first.append(finished(a));

    Outbox second = Outbox.open(dir);
    second.append(started(b));
    List<Outbox.Entry> entries = second.list();
    assertEquals(15, entries.size());
    assertEquals(List.of(started(a), finished(a), started(b)),
        entries.subList(12, 15).stream().map(e -> (Frame) e.frame()).toList());
    for (int i = 1; i < entries.size(); i++) assertTrue(entries.get(i - 1).seq() < entries.get(i).seq());
  }

  @Test
  void anAckRemovesExactlyTheEventOfThatTypeAndJob() throws IOException {
    Outbox o = Outbox.open(dir);
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    o.append(started(a));
    o.append(finished(a));
    o.append(started(b));

    assertEquals(1, o.remove(Frame.JobStarted.TYPE, a));
    assertEquals(List.of(finished(a), started(b)), o.list().stream().map(e -> (Frame) e.frame()).toList());
    assertEquals(0, o.remove(Frame.JobStarted.TYPE, a), "a repeated ack removes nothing");
    assertEquals(1, o.remove(Frame.JobFinished.TYPE, a));
    assertEquals(1, o.remove(Frame.JobStarted.TYPE, b));
    assertEquals(0, o.size());
    assertEquals(0, Outbox.open(dir).size(), "removal is on disk");
  }

  @Test
  void afterListsOnlyLaterEntries() throws IOException {
    Outbox o = Outbox.open(dir);
    Outbox.Entry first = o.append(started(UUID.randomUUID()));
    Outbox.Entry second = o.append(started(UUID.randomUUID()));
    assertEquals(List.of(second.seq()), o.after(first.seq()).stream().map(Outbox.Entry::seq).toList());
  }

  @Test
  void aCrashBetweenTempWriteAndRenameLeavesNoEntryAndNoLitter() throws IOException {
    Outbox o = Outbox.open(dir);
    UUID kept = UUID.randomUUID();
    o.append(started(kept));
    // What a crash after the temp write and before the rename leaves: a whole or half-written temp file.
    String name = String.format("%020d-job.finished-%s.json", 2, kept);
    String json = WireCodec.encode(finished(kept));
    Files.writeString(dir.resolve(name + Outbox.TMP_SUFFIX), json.substring(0, json.length() / 2));

    Outbox reopened = Outbox.open(dir);
    assertEquals(List.of(started(kept)), reopened.list().stream().map(e -> (Frame) e.frame()).toList());
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(p -> p.toString().endsWith(Outbox.TMP_SUFFIX)), "temp file deleted");
    }
    Outbox.Entry next = reopened.append(finished(kept));
    assertEquals(2, next.seq(), "the sequence number of the lost write is reused");
  }

  @Test
  void anEntryThatDoesNotDecodeIsSetAsideAndDoesNotBlockTheOthers() throws IOException {
    Outbox o = Outbox.open(dir);
    UUID a = UUID.randomUUID();
    Outbox.Entry e = o.append(started(a));
    o.append(finished(a));
    Files.writeString(e.file(), "{\"type\":\"job.sta", StandardCharsets.UTF_8);

    assertEquals(List.of(finished(a)), o.list().stream().map(x -> (Frame) x.frame()).toList());
    assertTrue(Files.exists(e.file().resolveSibling(e.file().getFileName() + Outbox.BAD_SUFFIX)));
  }

  @Test
  void progressAndHeartbeatsAreNeverStored() throws IOException {
    Outbox o = Outbox.open(dir);
    assertThrows(IllegalArgumentException.class, () -> o.append(new Frame.JobProgress(UUID.randomUUID(), 0.5, 1, 1)));
    assertThrows(IllegalArgumentException.class, () -> o.append(new Frame.Heartbeat()));
    assertEquals(0, o.size());
  }

  @Test
  void awaitEmptyReturnsOnceTheLastEntryIsAcked() throws Exception {
    Outbox o = Outbox.open(dir);
    UUID a = UUID.randomUUID();
    o.append(started(a));
    assertFalse(o.awaitEmpty(Duration.ofMillis(50)));
    Thread acker = new Thread(() -> o.remove(Frame.JobStarted.TYPE, a));
    acker.start();
    assertTrue(o.awaitEmpty(Duration.ofSeconds(10)));
    acker.join();
  }
}
