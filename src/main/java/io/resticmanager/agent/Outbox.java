package io.resticmanager.agent;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.WireCodec;
import io.resticmanager.agents.WireCodec.Decoded;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's durable queue of job events ({@code job.started}, {@code job.finished}) that the server
 * has not acknowledged yet: one file per event under {@code <data dir>/outbox/}, named
 * {@code <20-digit sequence>-<type>-<job id>.json} so that name order is append order. {@link JobQueue}
 * appends an event here before it is sent; {@link AgentClient} lists the entries to (re)send them in
 * order and removes one when its {@code ack} arrives.
 *
 * <p>Each entry is written to a temporary file, fsynced, atomically renamed and the directory fsynced,
 * so a crash leaves either a whole entry or a stray temporary file, which {@link #open} deletes. Never
 * holds {@code job.progress} (losing it is fine) and never talks to the network. Thread-safe.
 */
public final class Outbox {
  private static final Logger log = LoggerFactory.getLogger(Outbox.class);
  private static final Pattern NAME = Pattern.compile("(\\d{20})-(job\\.started|job\\.finished)-([0-9a-f-]{36})\\.json");
  static final String TMP_SUFFIX = ".tmp";
  static final String BAD_SUFFIX = ".bad";

  private final Path dir;
  private long nextSeq;

  /** One stored event: {@code seq} orders entries; {@code frame} is what gets sent. */
  public record Entry(long seq, Frame.FromAgent frame, Path file) {
    public Entry {
      Objects.requireNonNull(frame, "frame");
      Objects.requireNonNull(file, "file");
    }

    public String type() {
      return frame.type();
    }
  }

  private Outbox(Path dir, long nextSeq) {
    this.dir = dir;
    this.nextSeq = nextSeq;
  }

  /** Opens (creating if needed) the outbox in {@code dir} and deletes temporary files of an interrupted write. */
  public static Outbox open(Path dir) throws IOException {
    Files.createDirectories(dir);
    long max = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.endsWith(TMP_SUFFIX)) {
          log.warn("Outbox: deleting [{}], left over from an interrupted write", p);
          Files.deleteIfExists(p);
          continue;
        }
        Matcher m = NAME.matcher(n);
        if (m.matches()) max = Math.max(max, Long.parseLong(m.group(1)));
      }
    }
    return new Outbox(dir, max + 1);
  }

  public Path dir() {
    return dir;
  }

  /** Stores a {@code job.started} or {@code job.finished} durably; returns the entry once it is on disk. */
  public synchronized Entry append(Frame.FromAgent frame) throws IOException {
    UUID jobId = jobId(frame);
    long seq = nextSeq++;
    String name = String.format("%020d-%s-%s.json", seq, frame.type(), jobId);
    Path target = dir.resolve(name);
    Path tmp = dir.resolve(name + TMP_SUFFIX);
    byte[] bytes = WireCodec.encode(frame).getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) ch.write(buf);
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    syncDir();
    return new Entry(seq, frame, target);
  }

  /**
   * Every stored entry in append order. An entry that does not decode (which the write protocol should
   * make impossible) is renamed to {@code .bad}, logged, and skipped rather than blocking delivery.
   */
  public synchronized List<Entry> list() {
    List<Entry> out = new ArrayList<>();
    for (Path p : names()) {
      Matcher m = NAME.matcher(p.getFileName().toString());
      if (!m.matches()) continue;
      try {
        String text = Files.readString(p, StandardCharsets.UTF_8);
        if (WireCodec.decode(text) instanceof Decoded.Ok ok && ok.frame() instanceof Frame.FromAgent f
            && f.type().equals(m.group(2))) {
          out.add(new Entry(Long.parseLong(m.group(1)), f, p));
        } else {
          quarantine(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read outbox entry " + p, e);
      }
    }
    return out;
  }

  /** Entries with a sequence number above {@code seq}, in order. */
  public List<Entry> after(long seq) {
    return list().stream().filter(e -> e.seq() > seq).toList();
  }

  /** Deletes the entries of {@code type} for {@code jobId} (the server acked them); returns how many. */
  public synchronized int remove(String type, UUID jobId) {
    int n = 0;
    for (Path p : names()) {
      Matcher m = NAME.matcher(p.getFileName().toString());
      if (m.matches() && m.group(2).equals(type) && m.group(3).equals(jobId.toString())) {
        try {
          if (Files.deleteIfExists(p)) n++;
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete outbox entry " + p, e);
        }
      }
    }
    if (n > 0) {
      notifyAll();
      try {
        syncDir();
      } catch (IOException e) {
        log.debug("Outbox: directory fsync failed after removal", e);
      }
    }
    return n;
  }

  /** Waits until no entry is left; false when {@code max} passed first. */
  public synchronized boolean awaitEmpty(java.time.Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (size() > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) return false;
      java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, 200_000_000L));
    }
    return true;
  }

  public synchronized int size() {
    int n = 0;
    for (Path p : names()) {
      if (NAME.matcher(p.getFileName().toString()).matches()) n++;
    }
    return n;
  }

  private List<Path> names() {
    List<Path> ps = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.json")) {
      ds.forEach(ps::add);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list outbox " + dir, e);
    }
    ps.sort(null);
    return ps;
  }

  private void quarantine(Path p) throws IOException {
    Path bad = p.resolveSibling(p.getFileName() + BAD_SUFFIX);
    log.error("Outbox: entry [{}] is unreadable; moved to [{}] and skipped", p, bad);
    Files.move(p, bad, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Makes the rename itself durable; a no-op where directories cannot be opened (not Linux). */
  private void syncDir() throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      if (e instanceof IOException io && System.getProperty("os.name", "").startsWith("Linux")) throw io;
    }
  }

  private static UUID jobId(Frame.FromAgent f) {
    if (f instanceof Frame.JobStarted s) return s.jobId();
    if (f instanceof Frame.JobFinished j) return j.jobId();
    throw new IllegalArgumentException("only job.started and job.finished go to the outbox, not " + f.type());
  }
}
