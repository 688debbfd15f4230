package io.resticmanager.bench;

import io.resticmanager.fleet.HostStatus;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.ui.Assets;
import io.resticmanager.ui.FleetPage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The status page's fleet page ({@code GET /}) for a fleet of {@code hosts}: the hosts of {@link FleetFixture}
 * (online 9 in 10, last job of 3–4 kinds, 1 in 20 with a failed backup and an open alert) as the
 * {@link HostStatus} list {@code Fleet.statuses()} hands the route, plus repository statistics, a name and an os.
 *
 * <ul>
 *   <li>{@code page}: {@code FleetPage.page} (sort worst first, no filter) to a {@code String}.
 *   <li>{@code pageBytes}: the same and its UTF-8 bytes, what the route hands Pekko for an identity response.
 *   <li>{@code pageGzip}: the same gzipped at the JDK's default level, as {@code encodeResponse} does for a browser.
 *   <li>{@code fragmentByName}: the live region alone (what the page's script polls), sorted by name.
 * </ul>
 *
 * <p>{@link #main} prints the page's size in bytes, plain and gzipped, for 1,000 and 10,000 hosts.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Xms2g"})
public class StatusPageBench {
  static final long NOW = 1_764_300_000_000L;

  @Param({"1000", "10000"})
  public int hosts;

  private List<HostStatus> statuses;
  private FleetPage page;
  private Assets assets;

  @Setup(Level.Trial)
  public void setUp() {
    statuses = statuses(hosts);
    page = new FleetPage(Duration.ofHours(26));
    assets = new Assets();
  }

  static List<HostStatus> statuses(int n) {
    FleetFixture fleet = new FleetFixture(n);
    List<HostStatus> out = new ArrayList<>(n);
    int i = 0;
    for (FleetFixture.MutableHost h : fleet.hosts) {
      Long backup = h.lastSuccess.get(JobKind.BACKUP);
      out.add(new HostStatus(new UUID(0x5eed, i).toString(), h.name, true, h.online, h.lastSeen, h.agentVersion,
          h.resticVersion, h.os, NOW - 90L * 86_400_000, h.lastJob, h.lastSuccess, backup == null ? 0 : backup,
          h.lastBackupAdded, 30 + i % 60, (long) (i % 97 + 1) << 30, h.openAlerts));
      i++;
    }
    return out;
  }

  @Benchmark
  public String page() {
    return page.page(statuses, NOW, FleetPage.Sort.WORST, "", assets, "csrf-token-of-the-session-0123456789abcdef");
  }

  @Benchmark
  public byte[] pageBytes() {
    return page().getBytes(StandardCharsets.UTF_8);
  }

  @Benchmark
  public int pageGzip() throws IOException {
    return gzip(pageBytes()).length;
  }

  @Benchmark
  public int fragmentByName() {
    StringBuilder out = new StringBuilder(1024 + statuses.size() * 700);
    page.fragment(out, statuses, NOW, FleetPage.Sort.NAME, "");
    return out.length();
  }

  static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(bytes.length / 8);
    try (GZIPOutputStream gz = new GZIPOutputStream(buf)) {
      gz.write(bytes);
    }
    return buf.toByteArray();
  }

  /** Prints the page's size, plain and gzipped, per fleet size. */
  public static void main(String[] args) throws IOException {
    for (int n : new int[] {1000, 10000}) {
      StatusPageBench b = new StatusPageBench();
      b.hosts = n;
      b.setUp();
      byte[] plain = b.pageBytes();
      System.out.printf("%,d hosts: %,d bytes, %,d gzipped (%,d and %,d per host)%n", n, plain.length,
          gzip(plain).length, plain.length / n, gzip(plain).length / n);
    }
  }
}
