package io.resticmanager.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.agents.Frame.Ack;
import io.resticmanager.agents.Frame.BackupSummary;
import io.resticmanager.agents.Frame.CommandRun;
import io.resticmanager.agents.Frame.ErrorFrame;
import io.resticmanager.agents.Frame.Heartbeat;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.agents.Frame.JobFinished;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.JobStarted;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.agents.Frame.Welcome;
import io.resticmanager.agents.WireCodec.Decoded;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.RestoreSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WireCodecTest {

  private static final UUID JOB = UUID.fromString("3f2c1a9e-8b7d-4c6e-9f01-23456789abcd");
  private static final String JOB_TEXT = JOB.toString();
  private static final Instant T0 = Instant.parse("2025-03-01T02:00:00Z");
  private static final Duration FAST = Duration.ofSeconds(2);

  private static final RestoreSpec RESTORE =
      new RestoreSpec("a1b2c3d4", "/srv/restore", List.of("/etc/nginx", "/home/a \"b\""));

  private static final BackupSummary SUMMARY =
      new BackupSummary(12, 3, 4510, 1_048_576, 4525, 7_340_032_000L, 42.5, "a1b2c3d4e5f6");

  static Stream<Frame> everyFrameType() {
    return Stream.of(
        new Hello(1, "0.1.0", "0.17.3", "db-01.example.org", "linux/amd64 Debian 12"),
        new Heartbeat(),
        new JobStarted(JOB, JobKind.BACKUP, T0),
        new JobProgress(JOB, 0.4217, 123_456_789L, 1_024),
        new JobProgress(JOB, 1e-4, Long.MAX_VALUE, 0),
        new JobFinished(JOB, JobStatus.SUCCEEDED, T0.plusMillis(42_517), 0, Optional.empty(), Optional.of(SUMMARY)),
        new JobFinished(JOB, JobStatus.FAILED, T0.plusNanos(1), 1, Optional.of("Fatal: wrong password"), Optional.empty()),
        new RepositoryStats(T0, 42, 1_234_567_890_123L, OptionalLong.of(2_345_678_901_234L)),
        new RepositoryStats(T0.plusMillis(7), 0, 0, OptionalLong.empty()),
        new Welcome("7", "0.1.0", 30),
        Ack.started(JOB),
        Ack.finished(JOB),
        new ErrorFrame(ErrorFrame.UNKNOWN_JOB, "no job 3f2c", Optional.of(JOB)),
        new ErrorFrame(ErrorFrame.BAD_JSON, "not JSON", Optional.empty()),
        new CommandRun(JOB, JobKind.PRUNE),
        new CommandRun(JOB, JobKind.RESTORE, Optional.of(RESTORE)),
        new CommandRun(JOB, JobKind.RESTORE, Optional.of(new RestoreSpec("latest", "/", List.of()))));
  }

  private static Frame ok(String text) {
    Decoded d = WireCodec.decode(text);
    assertInstanceOf(Decoded.Ok.class, d, () -> "expected Ok for " + text + " but got " + d);
    return ((Decoded.Ok) d).frame();
  }

  private static Decoded.Bad bad(String text) {
    Decoded d = WireCodec.decode(text);
    assertInstanceOf(Decoded.Bad.class, d, () -> "expected Bad for " + text + " but got " + d);
    return (Decoded.Bad) d;
  }

  private static void assertBad(String code, String messagePart, String text) {
    Decoded.Bad b = bad(text);
    assertEquals(code, b.code(), b::toString);
    assertTrue(b.message().contains(messagePart), () -> "message [" + b.message() + "] lacks [" + messagePart + "]");
  }

  private static void assertInvalidField(String field, String text) {
    assertBad(ErrorFrame.INVALID_FIELD, "invalid field \"" + field + "\"", text);
  }

  private static String progress(String percent, String bytes, String files) {
    return "{\"type\":\"job.progress\",\"job_id\":\"" + JOB_TEXT + "\",\"percent_done\":" + percent
        + ",\"bytes_done\":" + bytes + ",\"files_done\":" + files + "}";
  }

  private static String started(String startedAt) {
    return "{\"type\":\"job.started\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"backup\",\"started_at\":"
        + startedAt + "}";
  }

  private static String hello(String hostname, String agentVersion, String os) {
    return "{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":" + agentVersion
        + ",\"restic_version\":\"0.17.3\",\"hostname\":" + hostname + ",\"os\":" + os + "}";
  }

  private static String finished(String extra) {
    return "{\"type\":\"job.finished\",\"job_id\":\"" + JOB_TEXT
        + "\",\"status\":\"succeeded\",\"finished_at\":\"2025-03-01T02:00:42Z\",\"exit_code\":0" + extra + "}";
  }

  private static String quoted(String s) {
    return "\"" + s + "\"";
  }

  // ---------------------------------------------------------------- round trips and contract examples

  @ParameterizedTest
  @MethodSource("everyFrameType")
  void everyFrameTypeSurvivesEncodeThenDecode(Frame frame) {
    assertEquals(frame, ok(WireCodec.encode(frame)));
  }

  @Test
  void eachFrameKnowsItsWireType() {
    List<String> types = everyFrameType().map(Frame::type).distinct().toList();
    assertEquals(
        List.of("hello", "heartbeat", "job.started", "job.progress", "job.finished", "repository.stats", "welcome",
            "ack", "error", "command.run"),
        types);
  }

  @Test
  void encodedFramesUseTheContractFieldNamesTypeFirstAndUtcTimes() {
    assertEquals(
        "{\"type\":\"job.started\",\"job_id\":\"" + JOB_TEXT
            + "\",\"kind\":\"backup\",\"started_at\":\"2025-03-01T02:00:00Z\"}",
        WireCodec.encode(new JobStarted(JOB, JobKind.BACKUP, T0)));
    assertEquals(
        "{\"type\":\"job.finished\",\"job_id\":\"" + JOB_TEXT + "\",\"status\":\"succeeded\","
            + "\"finished_at\":\"2025-03-01T02:00:42.517Z\",\"exit_code\":0,\"summary\":{\"files_new\":12,"
            + "\"files_changed\":3,\"files_unmodified\":4510,\"data_added\":1048576,\"total_files_processed\":4525,"
            + "\"total_bytes_processed\":7340032000,\"total_duration\":42.5,\"snapshot_id\":\"a1b2c3d4e5f6\"}}",
        WireCodec.encode(
            new JobFinished(JOB, JobStatus.SUCCEEDED, T0.plusMillis(42_517), 0, Optional.empty(), Optional.of(SUMMARY))));
    assertEquals("{\"type\":\"heartbeat\"}", WireCodec.encode(new Heartbeat()));
    assertEquals(
        "{\"type\":\"repository.stats\",\"collected_at\":\"2025-03-01T02:00:00Z\",\"snapshot_count\":42,"
            + "\"total_size_bytes\":1234567890,\"total_uncompressed_size_bytes\":2345678901}",
        WireCodec.encode(new RepositoryStats(T0, 42, 1_234_567_890L, OptionalLong.of(2_345_678_901L))));
    assertEquals(
        "{\"type\":\"repository.stats\",\"collected_at\":\"2025-03-01T02:00:00Z\",\"snapshot_count\":0,"
            + "\"total_size_bytes\":0}",
        WireCodec.encode(new RepositoryStats(T0, 0, 0, OptionalLong.empty())));
    assertEquals(
        "{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"not JSON\"}",
        WireCodec.encode(new ErrorFrame(ErrorFrame.BAD_JSON, "not JSON", Optional.empty())));
  }

  @Test
  void contractExamplesOfAgentFramesDecode() {
    assertEquals(
        new Hello(1, "0.1.0", "0.17.3", "db-01.example.org", "linux/amd64"),
        ok("""
            {"type":"hello","protocol_version":1,"agent_version":"0.1.0","restic_version":"0.17.3",
             "hostname":"db-01.example.org","os":"linux/amd64"}
            """));
    assertEquals(new Heartbeat(), ok("""
        {"type":"heartbeat"}
        """));
    assertEquals(
        new JobStarted(JOB, JobKind.BACKUP, T0),
        ok("""
            {"type":"job.started","job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd","kind":"backup",
             "started_at":"2025-03-01T02:00:00Z"}
            """));
    assertEquals(
        new JobProgress(JOB, 0.5, 1_073_741_824L, 5_000),
        ok("""
            {"type":"job.progress","job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd","percent_done":0.5,
             "bytes_done":1073741824,"files_done":5000}
            """));
    assertEquals(
        new JobFinished(JOB, JobStatus.WARNING, Instant.parse("2025-03-01T02:00:42Z"), 3,
            Optional.of("error: open /srv/locked: permission denied"),
            Optional.of(new BackupSummary(12, 3, 4510, 1_048_576, 4525, 7_340_032_000L, 42.5, "a1b2c3d4e5f6"))),
        ok("""
            {"type":"job.finished","job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd","status":"warning",
             "finished_at":"2025-03-01T02:00:42Z","exit_code":3,
             "error":"error: open /srv/locked: permission denied",
             "summary":{"files_new":12,"files_changed":3,"files_unmodified":4510,"data_added":1048576,
                        "total_files_processed":4525,"total_bytes_processed":7340032000,"total_duration":42.5,
                        "snapshot_id":"a1b2c3d4e5f6"}}
            """));
    assertEquals(
        new RepositoryStats(T0, 42, 1_234_567_890L, OptionalLong.of(2_345_678_901L)),
        ok("""
            {"type":"repository.stats","collected_at":"2025-03-01T02:00:00Z","snapshot_count":42,
             "total_size_bytes":1234567890,"total_uncompressed_size_bytes":2345678901}
            """));
  }

  @Test
  void contractExamplesOfServerFramesDecode() {
    assertEquals(new Welcome("7", "0.1.0", 30), ok("""
        {"type":"welcome","host_id":"7","server_version":"0.1.0","heartbeat_interval_seconds":30}
        """));
    assertEquals(Ack.finished(JOB), ok("""
        {"type":"ack","of":"job.finished","job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd"}
        """));
    assertEquals(
        new ErrorFrame("unknown_job", "no such job", Optional.of(JOB)),
        ok("""
            {"type":"error","code":"unknown_job","message":"no such job",
             "job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd"}
            """));
    assertEquals(
        new ErrorFrame("hello_required", "send hello first", Optional.empty()),
        ok("""
            {"type":"error","code":"hello_required","message":"send hello first"}
            """));
    assertEquals(new CommandRun(JOB, JobKind.CHECK), ok("""
        {"type":"command.run","job_id":"3f2c1a9e-8b7d-4c6e-9f01-23456789abcd","kind":"check"}
        """));
  }

  @Test
  void commandRunCarriesARestoreOnlyForRestoreAndIsUnchangedForOtherKinds() {
    assertEquals("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"backup\"}",
        WireCodec.encode(new CommandRun(JOB, JobKind.BACKUP)), "what an older agent always got");
    assertEquals("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"restore\","
            + "\"snapshot_id\":\"a1b2c3d4\",\"target\":\"/srv/restore\","
            + "\"include\":[\"/etc/nginx\",\"/home/a \\\"b\\\"\"]}",
        WireCodec.encode(new CommandRun(JOB, JobKind.RESTORE, Optional.of(RESTORE))));
    assertEquals("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"restore\","
            + "\"snapshot_id\":\"latest\",\"target\":\"/srv/restore\"}",
        WireCodec.encode(new CommandRun(JOB, JobKind.RESTORE, Optional.of(new RestoreSpec("latest", "/srv/restore",
            List.of())))), "no include: the field is left out");
  }

  @Test
  void aRestoreCommandDecodesWithDefaultsAndKeepsWhatItSaysForTheAgentToJudge() {
    String head = "{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"restore\"";
    assertEquals(new CommandRun(JOB, JobKind.RESTORE, Optional.empty()), ok(head + "}"),
        "a server that predates the fields: no restore, which the agent reports failed");
    assertEquals(new CommandRun(JOB, JobKind.RESTORE, Optional.empty()), ok(head + ",\"snapshot_id\":\"latest\"}"));
    assertEquals(new CommandRun(JOB, JobKind.RESTORE, Optional.of(new RestoreSpec("latest", "/t", List.of()))),
        ok(head + ",\"target\":\"/t\",\"include\":null}"));
    assertEquals(new CommandRun(JOB, JobKind.RESTORE, Optional.of(new RestoreSpec("nope", "relative", List.of("..")))),
        ok(head + ",\"snapshot_id\":\"nope\",\"target\":\"relative\",\"include\":[\"..\"]}"));
    assertEquals(new CommandRun(JOB, JobKind.BACKUP),
        ok("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"backup\",\"target\":\"/t\"}"),
        "restore fields on another kind are ignored like any unknown field");

    assertInvalidField("target", head + ",\"target\":7}");
    assertInvalidField("snapshot_id", head + ",\"target\":\"/t\",\"snapshot_id\":[]}");
    assertInvalidField("include", head + ",\"target\":\"/t\",\"include\":\"/etc\"}");
    assertInvalidField("include", head + ",\"target\":\"/t\",\"include\":[\"/etc\",1]}");
    assertEquals(Optional.of(JOB), bad(head + ",\"target\":7}").jobId());
  }

  @Test
  void aBadDecodeBecomesAnErrorFrameNamingTheJob() {
    Decoded.Bad b = bad(started("\"soon\""));
    assertEquals(new ErrorFrame(ErrorFrame.INVALID_FIELD, b.message(), Optional.of(JOB)), b.toErrorFrame());
    assertEquals(
        "{\"type\":\"error\",\"code\":\"invalid_field\",\"message\":\"invalid field \\\"started_at\\\": "
            + "not an RFC 3339 timestamp\",\"job_id\":\"" + JOB_TEXT + "\"}",
        WireCodec.encode(b.toErrorFrame()));
  }

  // ---------------------------------------------------------------- error codes

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "nope", "{", "{\"type\":\"heartbeat\"", "{\"type\":\"heartbeat\"} x",
      "{'type':'heartbeat'}", "[{\"type\":\"heartbeat\"}]", "\"heartbeat\"", "42", "null",
      "{\"type\":\"heartbeat\",}", "{\"a\":01}", "{\"type\":\"hello\u0001\"}"})
  void textThatIsNotOneJsonObjectIsBadJson(String text) {
    assertEquals(ErrorFrame.BAD_JSON, bad(text).code());
  }

  @Test
  void aMissingTextIsBadJson() {
    assertEquals(ErrorFrame.BAD_JSON, bad(null).code());
  }

  @Test
  void aMissingUnknownOrNonStringTypeIsUnknownType() {
    assertBad(ErrorFrame.UNKNOWN_TYPE, "missing \"type\"", "{\"job_id\":\"" + JOB_TEXT + "\"}");
    assertBad(ErrorFrame.UNKNOWN_TYPE, "missing \"type\"", "{\"type\":null}");
    assertBad(ErrorFrame.UNKNOWN_TYPE, "unknown type \"job.exploded\"", "{\"type\":\"job.exploded\"}");
    assertBad(ErrorFrame.UNKNOWN_TYPE, "must be a string", "{\"type\":7}");
    assertEquals(Optional.of(JOB), bad("{\"type\":\"job.paused\",\"job_id\":\"" + JOB_TEXT + "\"}").jobId());
  }

  @Test
  void aJobIdThatIsNotAUuidIsAnInvalidFieldNamingJobId() {
    Decoded.Bad b = bad("{\"type\":\"command.run\",\"job_id\":\"42\",\"kind\":\"backup\"}");
    assertEquals(ErrorFrame.INVALID_FIELD, b.code());
    assertEquals("invalid field \"job_id\": not a UUID", b.message());
    assertEquals(Optional.empty(), b.jobId());
    assertInvalidField("job_id", "{\"type\":\"ack\",\"of\":\"job.started\",\"job_id\":\"1-1-1-1-1\"}");
    assertInvalidField("job_id", "{\"type\":\"ack\",\"of\":\"job.started\",\"job_id\":42}");
  }

  @Test
  void aMissingRequiredFieldIsNamed() {
    Decoded.Bad b = bad("{\"type\":\"job.started\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"backup\"}");
    assertEquals(ErrorFrame.INVALID_FIELD, b.code());
    assertEquals("invalid field \"started_at\": missing", b.message());
    assertEquals(Optional.of(JOB), b.jobId());
    assertInvalidField("hostname", "{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"1\","
        + "\"restic_version\":\"0.17.3\",\"os\":\"linux\"}");
    assertInvalidField("heartbeat_interval_seconds", "{\"type\":\"welcome\",\"host_id\":\"7\",\"server_version\":\"1\"}");
    assertInvalidField("message", "{\"type\":\"error\",\"code\":\"bad_json\"}");
    assertInvalidField("exit_code", "{\"type\":\"job.finished\",\"job_id\":\"" + JOB_TEXT
        + "\",\"status\":\"failed\",\"finished_at\":\"2025-03-01T02:00:42Z\",\"exit_code\":null}");
  }

  @Test
  void aFieldOfTheWrongJsonTypeIsNamed() {
    assertInvalidField("bytes_done", progress("0.5", "\"12\"", "1"));
    assertInvalidField("files_done", progress("0.5", "12", "true"));
    assertInvalidField("percent_done", progress("[0.5]", "12", "1"));
    assertInvalidField("protocol_version", "{\"type\":\"hello\",\"protocol_version\":\"1\",\"agent_version\":\"1\","
        + "\"restic_version\":\"0.17.3\",\"hostname\":\"h\",\"os\":\"linux\"}");
    assertInvalidField("hostname", hello("{\"name\":\"h\"}", "\"1\"", "\"linux\""));
    assertInvalidField("summary", finished(",\"summary\":\"none\""));
    assertInvalidField("error", finished(",\"error\":{\"text\":\"boom\"}"));
  }

  @Test
  void anUnknownKindOrStatusHasItsOwnCodeAndKeepsTheJobId() {
    Decoded.Bad kind = bad("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT + "\",\"kind\":\"defrag\"}");
    assertEquals(ErrorFrame.UNKNOWN_KIND, kind.code());
    assertEquals("unknown kind \"defrag\"", kind.message());
    assertEquals(Optional.of(JOB), kind.jobId());
    assertEquals(ErrorFrame.UNKNOWN_KIND, bad("{\"type\":\"command.run\",\"job_id\":\"" + JOB_TEXT
        + "\",\"kind\":\"BACKUP\"}").code());

    Decoded.Bad status = bad(finished("").replace("succeeded", "exploded"));
    assertEquals(ErrorFrame.UNKNOWN_STATUS, status.code());
    assertEquals("unknown status \"exploded\"", status.message());
    assertEquals(Optional.of(JOB), status.jobId());
  }

  @Test
  void anAckOfAnythingButAJobStartOrFinishIsAnInvalidOf() {
    assertInvalidField("of", "{\"type\":\"ack\",\"of\":\"hello\",\"job_id\":\"" + JOB_TEXT + "\"}");
  }

  @Test
  void unknownValuesAreEchoedBoundedAndOnOneLine() {
    String noisy = "x\n\"".repeat(100);
    Decoded.Bad b = bad("{\"type\":\"" + noisy.replace("\n", "\\n").replace("\"", "\\\"") + "\"}");
    assertEquals(ErrorFrame.UNKNOWN_TYPE, b.code());
    assertFalse(b.message().contains("\n"));
    assertTrue(b.message().length() < 100, b.message());
  }

  // ---------------------------------------------------------------- hostile input

  @Test
  void tenThousandOpenBracketsAreBadJsonAtOnce() {
    Decoded.Bad b = assertTimeoutPreemptively(FAST, () -> bad("[".repeat(10_000)));
    assertEquals(ErrorFrame.BAD_JSON, b.code());
    assertTrue(b.message().contains("nested"), b.message());
  }

  @Test
  void deeplyNestedObjectsInsideAValidFrameAreBadJson() {
    String deep = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);
    Decoded.Bad b = assertTimeoutPreemptively(FAST, () -> bad("{\"type\":\"heartbeat\",\"x\":" + deep + "}"));
    assertEquals(ErrorFrame.BAD_JSON, b.code());
  }

  @Test
  void nestingUpToTheLimitIsFineAndBracketsInsideStringsDoNotCount() {
    String nested = "[".repeat(WireCodec.MAX_DEPTH - 1) + "]".repeat(WireCodec.MAX_DEPTH - 1);
    assertEquals(new Heartbeat(), ok("{\"type\":\"heartbeat\",\"x\":" + nested + "}"));
    String brackets = "[[[{{{\\\"[[[".repeat(100);
    JobFinished f = (JobFinished) ok(finished(",\"error\":\"" + brackets + "\""));
    assertEquals(Optional.of("[[[{{{\"[[[".repeat(100)), f.error());
  }

  @Test
  void textLongerThanAMebibyteIsBadJson() {
    String pad = " ".repeat(WireCodec.MAX_FRAME_CHARS);
    assertEquals(ErrorFrame.BAD_JSON, bad("{\"type\":\"heartbeat\"}" + pad).code());
  }

  @Test
  void hugeNumbersAreInvalidFieldsAndDecodeFast() {
    assertTimeoutPreemptively(FAST, () -> {
      assertInvalidField("bytes_done", progress("0.5", "1e999999", "1"));
      assertInvalidField("bytes_done", progress("0.5", "-1e999999", "1"));
      assertInvalidField("files_done", progress("0.5", "1", "99999999999999999999999"));
      assertInvalidField("files_done", progress("0.5", "1", "9223372036854775808"));
      assertInvalidField("percent_done", progress("1e999999", "1", "1"));
      assertInvalidField("exit_code", finished("").replace("\"exit_code\":0", "\"exit_code\":2147483648"));
      assertInvalidField("summary.total_duration", finished(",\"summary\":{\"total_duration\":1e999999}"));
      assertInvalidField("summary.data_added", finished(",\"summary\":{\"data_added\":1e400}"));
    });
  }

  @Test
  void extremeButRepresentableNumbersDecode() {
    assertEquals(new JobProgress(JOB, 0.0, Long.MAX_VALUE, 500), ok(progress("1e-999999", "9223372036854775807", "5e2")));
    assertEquals(new JobProgress(JOB, 0.25, 7, 0), ok(progress("0.25", "7.000", "0")));
  }

  @Test
  void fractionalCountsAreInvalidFields() {
    Decoded.Bad b = bad(progress("0.5", "1.5", "1"));
    assertEquals("invalid field \"bytes_done\": must be an integer", b.message());
    assertInvalidField("bytes_done", progress("0.5", "1e-999999", "1"));
  }

  @Test
  void numbersTooLongForTheParserAreBadJson() {
    assertEquals(ErrorFrame.BAD_JSON, bad(progress("0.5", "9".repeat(500), "1")).code());
    assertEquals(ErrorFrame.BAD_JSON, bad(progress("0.5", "1e99999999999", "1")).code());
  }

  @Test
  void negativeCountsAreInvalidFields() {
    assertEquals("invalid field \"bytes_done\": must not be negative", bad(progress("0.5", "-1", "0")).message());
    assertInvalidField("files_done", progress("0.5", "0", "-3"));
    assertInvalidField("summary.files_new", finished(",\"summary\":{\"files_new\":-1}"));
    assertInvalidField("summary.total_duration", finished(",\"summary\":{\"total_duration\":-0.5}"));
  }

  @Test
  void percentDoneToleratesFloatNoiseButNotRealOverflow() {
    assertEquals(1.0, ((JobProgress) ok(progress("1.0000000001", "1", "1"))).percentDone());
    assertEquals(0.0, ((JobProgress) ok(progress("-0.0000000001", "1", "1"))).percentDone());
    assertInvalidField("percent_done", progress("1.01", "1", "1"));
    assertInvalidField("percent_done", progress("-0.01", "1", "1"));
    assertInvalidField("percent_done", progress("42", "1", "1"));
  }

  @Test
  void unknownFieldsAreIgnoredAtEveryLevel() {
    assertEquals(
        new JobFinished(JOB, JobStatus.SUCCEEDED, Instant.parse("2025-03-01T02:00:42Z"), 0, Optional.empty(),
            Optional.of(new BackupSummary(1, 0, 0, 0, 0, 0, 0.0, "abc"))),
        ok(finished(",\"colour\":\"blue\",\"nested\":{\"deeper\":[1,2,{\"x\":null}]},"
            + "\"summary\":{\"files_new\":1,\"snapshot_id\":\"abc\",\"message_type\":\"summary\",\"dry_run\":false}")));
    assertEquals(new Heartbeat(), ok("{\"type\":\"heartbeat\",\"sent_at\":\"2025-03-01T02:00:00Z\"}"));
  }

  @Test
  void rfc3339TimestampsWithAnyOffsetBecomeTheSameInstant() {
    assertEquals(T0, ((JobStarted) ok(started("\"2025-03-01T04:00:00+02:00\""))).startedAt());
    assertEquals(T0, ((JobStarted) ok(started("\"2025-02-28T21:30:00-04:30\""))).startedAt());
    assertEquals(T0, ((JobStarted) ok(started("\"2025-03-01t02:00:00z\""))).startedAt());
    assertEquals(T0.plusNanos(123_456_789), ((JobStarted) ok(started("\"2025-03-01T02:00:00.123456789Z\""))).startedAt());
    assertEquals(T0.plusMillis(100), ((JobStarted) ok(started("\"2025-03-01T02:00:00.1Z\""))).startedAt());
    assertEquals(T0, ((JobStarted) ok(started("\"2025-03-01T02:00:00-00:00\""))).startedAt());
    assertEquals(Instant.parse("2024-02-29T00:00:00Z"),
        ((JobStarted) ok(started("\"2024-02-29T00:00:00Z\""))).startedAt());
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"yesterday\"", "\"\"", "\"2025-03-01T02:00:00\"", "\"2025-03-01 02:00:00Z\"",
      "\"2025-03-01T02:00Z\"", "\"2025-13-01T02:00:00Z\"", "\"2025-02-30T02:00:00Z\"", "\"2025-02-29T02:00:00Z\"",
      "\"2025-03-01T02:00:60Z\"", "\"2025-03-01T02:00:00+24:00\"", "\"2025-03-01T02:00:00.Z\"",
      "\"+2025-03-01T02:00:00Z\"", "\"2025-03-01T02:00:00Zjunk\"", "\"2025-03-01T25:00:00Z\"",
      "\"2025-03-01T02:00:00.1234567891Z\"", "\"2025-03-01T02:00:00+2\"", "\"2025-03-01\"", "1740794400",
      "\"2025-03-01T02:00:00Z                                                                                \""})
  void anythingButAnRfc3339TimestampIsAnInvalidFieldNamingIt(String startedAt) {
    Decoded.Bad b = bad(started(startedAt));
    assertEquals(ErrorFrame.INVALID_FIELD, b.code());
    assertTrue(b.message().startsWith("invalid field \"started_at\""), b.message());
    assertEquals(Optional.of(JOB), b.jobId());
  }

  @Test
  void timesAreEncodedInUtc() {
    Frame f = ok(started("\"2025-03-01T04:00:00+02:00\""));
    assertTrue(WireCodec.encode(f).contains("\"started_at\":\"2025-03-01T02:00:00Z\""), WireCodec.encode(f));
  }

  // ---------------------------------------------------------------- strings

  @Test
  void hostnamesAreBoundedAndPlain() {
    String longest = "a".repeat(253);
    assertEquals(longest, ((Hello) ok(hello(quoted(longest), "\"1\"", "\"linux\""))).hostname());
    assertEquals("Web_01.example-corp.org",
        ((Hello) ok(hello("\"Web_01.example-corp.org\"", "\"1\"", "\"linux\""))).hostname());
    assertInvalidField("hostname", hello(quoted("a".repeat(254)), "\"1\"", "\"linux\""));
    assertInvalidField("hostname", hello("\"\"", "\"1\"", "\"linux\""));
    assertInvalidField("hostname", hello("\"web 01\"", "\"1\"", "\"linux\""));
    assertInvalidField("hostname", hello("\"web/../01\"", "\"1\"", "\"linux\""));
    assertInvalidField("hostname", hello("\"web\\n01\"", "\"1\"", "\"linux\""));
    assertInvalidField("hostname", hello("\"wéb\"", "\"1\"", "\"linux\""));
  }

  @Test
  void oversizeVersionsOsAndSnapshotIdsAreInvalidFields() {
    assertEquals("invalid field \"agent_version\": longer than 100 chars",
        bad(hello("\"h\"", quoted("1".repeat(101)), "\"linux\"")).message());
    assertInvalidField("agent_version", hello("\"h\"", "\"\"", "\"linux\""));
    assertInvalidField("os", hello("\"h\"", "\"1\"", quoted("x".repeat(201))));
    assertEquals("x".repeat(200), ((Hello) ok(hello("\"h\"", "\"1\"", quoted("x".repeat(200))))).os());
    assertInvalidField("summary.snapshot_id", finished(",\"summary\":{\"snapshot_id\":\"" + "f".repeat(129) + "\"}"));
  }

  @Test
  void anOversizeErrorIsTruncatedNotRefused() {
    String tail = "x".repeat(Frame.MAX_TEXT_CHARS - 1) + "\uD83D\uDE00" + "y".repeat(4000);
    JobFinished f = (JobFinished) ok(finished(",\"error\":\"" + tail + "\""));
    assertEquals("x".repeat(Frame.MAX_TEXT_CHARS - 1), f.error().orElseThrow());
    JobFinished g = (JobFinished) ok(finished(",\"error\":\"" + "e".repeat(20_000) + "\""));
    assertEquals(Frame.MAX_TEXT_CHARS, g.error().orElseThrow().length());
  }

  @Test
  void aJobFinishedDecodesWithAndWithoutItsOptionalParts() {
    JobFinished bare = (JobFinished) ok(finished(""));
    assertEquals(Optional.empty(), bare.error());
    assertEquals(Optional.empty(), bare.summary());
    JobFinished nulls = (JobFinished) ok(finished(",\"error\":null,\"summary\":null"));
    assertEquals(bare, nulls);
    JobFinished empty = (JobFinished) ok(finished(",\"error\":\"\",\"summary\":{}"));
    assertEquals(Optional.of(""), empty.error());
    assertEquals(Optional.of(new BackupSummary(0, 0, 0, 0, 0, 0, 0.0, "")), empty.summary());
    JobFinished both = (JobFinished) ok(finished(",\"error\":\"warn\",\"summary\":{\"files_new\":2}"));
    assertEquals(Optional.of("warn"), both.error());
    assertEquals(2, both.summary().orElseThrow().filesNew());
  }

  @Test
  void repositoryStatsDecodeWithAndWithoutTheUncompressedSize() {
    RepositoryStats bare = (RepositoryStats) ok(stats("\"2025-03-01T03:00:00+01:00\"", "3", "1024", ""));
    assertEquals(new RepositoryStats(T0, 3, 1024, OptionalLong.empty()), bare);
    assertEquals(bare, ok(stats("\"2025-03-01T02:00:00Z\"", "3", "1024", ",\"total_uncompressed_size_bytes\":null")));
    assertEquals(OptionalLong.of(0), ((RepositoryStats) ok(stats("\"2025-03-01T02:00:00Z\"", "0", "0",
        ",\"total_uncompressed_size_bytes\":0"))).totalUncompressedSizeBytes());
  }

  @Test
  void repositoryStatsWithANegativeCountOrABadTimeNameTheField() {
    String at = "\"2025-03-01T02:00:00Z\"";
    assertEquals("invalid field \"snapshot_count\": must not be negative", bad(stats(at, "-1", "0", "")).message());
    assertInvalidField("total_size_bytes", stats(at, "1", "-1024", ""));
    assertInvalidField("total_uncompressed_size_bytes", stats(at, "1", "1", ",\"total_uncompressed_size_bytes\":-1"));
    assertInvalidField("snapshot_count", stats(at, "1.5", "1", ""));
    assertInvalidField("total_size_bytes", stats(at, "1", "\"1024\"", ""));
    assertInvalidField("total_size_bytes", stats(at, "1", "1e30", ""));
    assertInvalidField("collected_at", stats("\"yesterday\"", "1", "1", ""));
    assertInvalidField("collected_at", stats("1740794400", "1", "1", ""));
    assertInvalidField("collected_at", stats("\"2025-02-30T02:00:00Z\"", "1", "1", ""));
    assertEquals("invalid field \"total_size_bytes\": missing",
        bad("{\"type\":\"repository.stats\",\"collected_at\":" + at + ",\"snapshot_count\":1}").message());
  }

  private static String stats(String collectedAt, String count, String size, String extra) {
    return "{\"type\":\"repository.stats\",\"collected_at\":" + collectedAt + ",\"snapshot_count\":" + count
        + ",\"total_size_bytes\":" + size + extra + "}";
  }

  @Test
  void encodeEscapesQuotesBackslashesControlCharsAndLoneSurrogates() {
    String nasty = "a\"b\\c\u0000d\u001fe\n\r\t\b\f\u2028\u2029\u007f😀\uD800z\uDC00";
    String json = WireCodec.encode(new ErrorFrame("bad_json", nasty, Optional.empty()));
    assertEquals("{\"type\":\"error\",\"code\":\"bad_json\",\"message\":"
        + "\"a\\\"b\\\\c\\u0000d\\u001fe\\n\\r\\t\\u0008\\u000c\u2028\u2029\u007f😀\\ud800z\\udc00\"}", json);
    assertTrue(json.chars().noneMatch(c -> c < 0x20), json);
    assertEquals(new ErrorFrame("bad_json", nasty, Optional.empty()), ok(json));
  }

  // ---------------------------------------------------------------- never throws

  @Test
  void twoHundredRandomMutationsOfValidFramesNeverThrow() {
    Random random = new Random(20250301L);
    List<String> seeds = everyFrameType().map(WireCodec::encode).toList();
    String[] splices = {"{", "}", "[", "]", "\"", "\\", ":", ",", "null", "-", "1e999999", "99999999999999999999999",
        "0.5", "\"x\"", "\\u0000", "\\ud800", "\uD800", "\u0000", "{\"a\":", "true", "-0", "1.5", "\"\"",
        "[".repeat(50)};
    int oks = 0;
    int bads = 0;
    List<String> cases = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      StringBuilder text = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
      int edits = 1 + random.nextInt(3);
      for (int e = 0; e < edits && text.length() > 0; e++) {
        int at = random.nextInt(text.length());
        switch (random.nextInt(5)) {
          case 0 -> text.deleteCharAt(at);
          case 1 -> text.insert(at, splices[random.nextInt(splices.length)]);
          case 2 -> text.setCharAt(at, (char) random.nextInt(0x80));
          case 3 -> text.setLength(at);
          default -> {
            int end = Math.min(text.length(), at + 1 + random.nextInt(12));
            text.replace(at, end, splices[random.nextInt(splices.length)]);
          }
        }
      }
      cases.add(text.toString());
    }
    for (String text : cases) {
      Decoded d = WireCodec.decodeUnguarded(text);
      if (d instanceof Decoded.Ok) {
        oks++;
      } else if (d instanceof Decoded.Bad b) {
        assertTrue(List.of("bad_json", "unknown_type", "invalid_field", "unknown_kind", "unknown_status")
            .contains(b.code()), b::toString);
        bads++;
      }
    }
    assertEquals(200, oks + bads);
    assertTrue(bads > 100, "mutations should mostly break frames, got " + bads + " Bad");
  }
}
