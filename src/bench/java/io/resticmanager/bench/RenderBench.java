package io.resticmanager.bench;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.resticmanager.http.MetricsRoutes;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.MetricsSnapshot;
import io.resticmanager.metrics.MetricsTextWriter;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import io.resticmanager.metrics.TextBuffer;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * One {@code /metrics} rendering of a fleet of {@code hosts}: ours (ServerMetrics.build from a fleet
 * sample, then PrometheusTextWriter) against client_java 1.10 (registry scrape, then its
 * PrometheusTextFormatWriter), same families, series and values ({@link FleetFixture}). Run with
 * {@code -prof gc} for bytes allocated per rendering ({@code gc.alloc.rate.norm}).
 *
 * <ul>
 *   <li>{@code clientJava_scrapeWrite}: the baseline, {@code registry.scrape()} + {@code write(stream)}.
 *   <li>{@code ours_buildWrite_buffer}: build + write into a reused {@link TextBuffer}.
 *   <li>{@code ours_buildWrite_stream}: build + write to an {@link OutputStream} (64 KiB chunks).
 *   <li>{@code ours_buildToBytes}: build + {@code toBytes}, what the metrics route does today.
 *   <li>{@code ours_buildParts}: build + {@code parts()} in 64 KiB, pieces handed to a sink that drops
 *       them (the hosts' rows are slices of their samples' arrays, so this copies almost nothing).
 *   <li>{@code ours_sampleBuildWrite_stream}: also copies the fleet state into a sample, as
 *       {@code Fleet.onGetSample} did at every scrape: the fairest match for client_java's scrape,
 *       which copies its live state into snapshots.
 * </ul>
 *
 * <p>The work of one scrape in the metrics route ({@code route_*}; Pekko's own rendering and socket
 * writes not included):
 *
 * <ul>
 *   <li>{@code route_afterUnchanged}: the fleet's kept sample and rendered rows ({@link FleetFixture#keptSample}),
 *       build, {@code parts()} in the route's {@link MetricsRoutes#CHUNK_BYTES}, each part one
 *       {@code ByteString} wrapping its pieces: what the route does when nothing changed since the last scrape.
 *   <li>{@code route_after15Seen}: the same after 15 hosts sent a frame since the last scrape (their samples
 *       rebuilt, their rows re-rendered): what back-to-back scrapes of 10,000 agents see.
 *   <li>{@code route_after15SeenGzip}: the same, gzipped as the route gzips
 *       ({@code GzipPieces}: the hosts' blocks come deflated).
 *   <li>{@code route_afterAllSeen}: the same after every host sent a frame since the last scrape, so every
 *       host's sample is rebuilt and its rows re-rendered.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Xms2g"})
public class RenderBench {

  @Param({"1000", "10000"})
  public int hosts;

  private FleetFixture fleet;
  private FleetSample sample;
  private PrometheusRegistry registry;
  private final PrometheusTextFormatWriter clientJavaWriter = PrometheusTextFormatWriter.create();
  private final TextBuffer buffer = new TextBuffer(1 << 20);
  private final CountingStream sink = new CountingStream();

  /** Discards bytes, counts them (so the JIT cannot drop the writes). */
  static final class CountingStream extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    fleet = new FleetFixture(hosts);
    sample = fleet.sample();
    registry = fleet.clientJavaRegistry();
    CountingStream ours = new CountingStream();
    PrometheusTextWriter.INSTANCE.write(ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD), ours);
    CountingStream theirs = new CountingStream();
    clientJavaWriter.write(theirs, registry.scrape());
    System.out.printf("%n[render] hosts=%d exposition bytes: ours=%d client_java=%d%n", hosts, ours.count, theirs.count);
    byte[] copied = PrometheusTextWriter.INSTANCE.toBytes(
        ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD));
    byte[] resampled = PrometheusTextWriter.INSTANCE.toBytes(
        ServerMetrics.build(fleet.durations, fleet.resampledAfterFrames(), FleetFixture.BUILD));
    if (!Arrays.equals(copied, resampled)) {
      throw new IllegalStateException("the resampled fleet renders other bytes than the copied one");
    }
  }

  @Benchmark
  public long clientJava_scrapeWrite() throws IOException {
    MetricSnapshots snapshots = registry.scrape();
    sink.count = 0;
    clientJavaWriter.write(sink, snapshots);
    return sink.count;
  }

  @Benchmark
  public int ours_buildWrite_buffer() {
    MetricsSnapshot snapshot = ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD);
    buffer.reset();
    PrometheusTextWriter.INSTANCE.write(snapshot, buffer);
    return buffer.size();
  }

  @Benchmark
  public long ours_buildWrite_stream() throws IOException {
    MetricsSnapshot snapshot = ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD);
    sink.count = 0;
    PrometheusTextWriter.INSTANCE.write(snapshot, sink);
    return sink.count;
  }

  @Benchmark
  public byte[] ours_buildToBytes() {
    return PrometheusTextWriter.INSTANCE.toBytes(ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD));
  }

  @Benchmark
  public long ours_buildParts() {
    MetricsTextWriter.Parts parts =
        PrometheusTextWriter.INSTANCE.parts(ServerMetrics.build(fleet.durations, sample, FleetFixture.BUILD), 64 * 1024);
    long n = 0;
    while (parts.hasNext()) n += parts.next((bytes, offset, length) -> { });
    return n;
  }

  @Benchmark
  public long route_afterUnchanged() {
    return drainStreamed(fleet.keptSample(0));
  }

  @Benchmark
  public long route_after15Seen() {
    return drainStreamed(fleet.keptSample(15));
  }

  @Benchmark
  public long route_afterAllSeen() {
    return drainStreamed(fleet.keptSample(hosts));
  }

  @Benchmark
  public long route_after15SeenGzip() {
    return drainStreamed(fleet.keptSample(15), true);
  }

  private long drainStreamed(FleetSample fleetSample) {
    return drainStreamed(fleetSample, false);
  }

  /** The route's body, taken apart as its stream does: one ByteString per part, gzipped if asked. */
  private long drainStreamed(FleetSample fleetSample, boolean gzip) {
    long n = 0;
    try (MetricsRoutes.Body body = new MetricsRoutes.Body(PrometheusTextWriter.INSTANCE.parts(
        ServerMetrics.build(fleet.durations, fleetSample, FleetFixture.BUILD), MetricsRoutes.CHUNK_BYTES), gzip)) {
      while (body.hasNext()) n += body.next().length();
    }
    return n;
  }

  @Benchmark
  public long ours_sampleBuildWrite_stream() throws IOException {
    MetricsSnapshot snapshot = ServerMetrics.build(fleet.durations, fleet.sample(), FleetFixture.BUILD);
    sink.count = 0;
    PrometheusTextWriter.INSTANCE.write(snapshot, sink);
    return sink.count;
  }
}
