package io.resticmanager.agents;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * The agent channel's codec on its hot path: decoding a {@code job.finished} frame with a backup
 * summary (what an agent sends at the end of every job), decoding {@code job.started}, and encoding the
 * {@code ack} the server answers with. {@code sprayParseOnly} is spray-json's parse of the same text
 * without our validation: the floor for any decoder built on it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WireCodecBench {

  private String finished;
  private String started;
  private Frame.Ack ack;

  @Setup
  public void setUp() {
    UUID job = UUID.fromString("3f2b8c1e-6a4d-4e0b-9d7a-1c2e3f4a5b6c");
    Instant end = Instant.parse("2026-11-28T06:15:42.123456Z");
    finished = WireCodec.encode(new Frame.JobFinished(job, io.resticmanager.jobs.JobStatus.SUCCEEDED, end, 0,
        Optional.empty(), Optional.of(new Frame.BackupSummary(12, 3, 48_213, 73_400_320, 48_228,
            9_663_676_416L, 42.17, "8f2a9c1be0d44f7e8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"))));
    started = WireCodec.encode(new Frame.JobStarted(job, io.resticmanager.jobs.JobKind.BACKUP,
        Instant.parse("2026-11-28T06:14:59.987Z")));
    ack = new Frame.Ack(Frame.JobFinished.TYPE, job);
    if (!(WireCodec.decode(finished) instanceof WireCodec.Decoded.Ok)) throw new IllegalStateException(finished);
  }

  @Benchmark
  public WireCodec.Decoded decodeJobFinished() {
    return WireCodec.decode(finished);
  }

  @Benchmark
  public WireCodec.Decoded decodeJobStarted() {
    return WireCodec.decode(started);
  }

  @Benchmark
  public String encodeAck() {
    return WireCodec.encode(ack);
  }

  @Benchmark
  public JsValue sprayParseOnly() {
    return JsonParser.apply(ParserInput.apply(finished));
  }
}
