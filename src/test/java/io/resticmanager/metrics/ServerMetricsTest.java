package io.resticmanager.metrics;

import static io.resticmanager.metrics.MetricsTextWriterTest.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.BuildInfo;
import io.resticmanager.fleet.AlertKind;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ServerMetricsTest {

  private static final BuildInfo BUILD = new BuildInfo("1.0.0", "0123456789ab", "17.0.15");

  /** db-1 is online with jobs and a backup; app-2 (listed second, sorted first) was never seen. */
  private static MetricsSnapshot twoHosts() {
    JobDurations durations = JobDurations.empty()
        .plus(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofMillis(42_500))
        .plus(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(90_000))
        .plus(JobKind.CHECK, JobStatus.FAILED, Duration.ofSeconds(-5));
    FleetSample fleet = new FleetSample(List.of(
        new HostSample("db-1", true, 1_700_000_000_500L,
            Map.of(JobKind.BACKUP, 1_699_999_990_000L, JobKind.CHECK, 1_699_990_000_120L),
            Map.of(JobKind.BACKUP, 1_699_999_990_000L), 123_456_789L, 0, "0.1.0", "0.17.3", "linux/amd64",
            1_699_999_990_000L, new HostSample.Repository(48, 5_368_709_120L, 8_589_934_592L, 1_700_000_000_250L)),
        new HostSample("app-2", false, -1, Map.of(), Map.of(), -1, 2, null, null, "")),
        1, Map.of(AlertKind.AGENT_OFFLINE, 1, AlertKind.BACKUP_STALE, 1));
    return ServerMetrics.build(durations, fleet, BUILD);
  }

  @Test
  void twoHostFleetInTextFormat() {
    assertEquals("""
        # HELP restic_manager_job_duration_seconds finished jobs
        # TYPE restic_manager_job_duration_seconds histogram
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="60.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="120.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="300.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="600.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="1200.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="1800.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="3600.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="7200.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="14400.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="28800.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="86400.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="+Inf"} 2
        restic_manager_job_duration_seconds_count{kind="backup",status="succeeded"} 2
        restic_manager_job_duration_seconds_sum{kind="backup",status="succeeded"} 90042.5
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="warning",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="backup",status="warning"} 0
        restic_manager_job_duration_seconds_sum{kind="backup",status="warning"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="failed",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="backup",status="failed"} 0
        restic_manager_job_duration_seconds_sum{kind="backup",status="failed"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="backup",status="cancelled",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="backup",status="cancelled"} 0
        restic_manager_job_duration_seconds_sum{kind="backup",status="cancelled"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="succeeded",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="check",status="succeeded"} 0
        restic_manager_job_duration_seconds_sum{kind="check",status="succeeded"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="warning",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="check",status="warning"} 0
        restic_manager_job_duration_seconds_sum{kind="check",status="warning"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="1.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="5.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="15.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="30.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="60.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="120.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="300.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="600.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="1200.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="1800.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="3600.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="7200.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="14400.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="28800.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="86400.0"} 1
        restic_manager_job_duration_seconds_bucket{kind="check",status="failed",le="+Inf"} 1
        restic_manager_job_duration_seconds_count{kind="check",status="failed"} 1
        restic_manager_job_duration_seconds_sum{kind="check",status="failed"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="check",status="cancelled",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="check",status="cancelled"} 0
        restic_manager_job_duration_seconds_sum{kind="check",status="cancelled"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="succeeded",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="forget",status="succeeded"} 0
        restic_manager_job_duration_seconds_sum{kind="forget",status="succeeded"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="warning",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="forget",status="warning"} 0
        restic_manager_job_duration_seconds_sum{kind="forget",status="warning"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="failed",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="forget",status="failed"} 0
        restic_manager_job_duration_seconds_sum{kind="forget",status="failed"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="forget",status="cancelled",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="forget",status="cancelled"} 0
        restic_manager_job_duration_seconds_sum{kind="forget",status="cancelled"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="succeeded",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="prune",status="succeeded"} 0
        restic_manager_job_duration_seconds_sum{kind="prune",status="succeeded"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="warning",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="prune",status="warning"} 0
        restic_manager_job_duration_seconds_sum{kind="prune",status="warning"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="failed",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="prune",status="failed"} 0
        restic_manager_job_duration_seconds_sum{kind="prune",status="failed"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="prune",status="cancelled",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="prune",status="cancelled"} 0
        restic_manager_job_duration_seconds_sum{kind="prune",status="cancelled"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="succeeded",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="restore",status="succeeded"} 0
        restic_manager_job_duration_seconds_sum{kind="restore",status="succeeded"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="warning",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="restore",status="warning"} 0
        restic_manager_job_duration_seconds_sum{kind="restore",status="warning"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="failed",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="restore",status="failed"} 0
        restic_manager_job_duration_seconds_sum{kind="restore",status="failed"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="1.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="5.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="15.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="30.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="60.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="120.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="300.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="1200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="1800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="3600.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="7200.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="14400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="28800.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="86400.0"} 0
        restic_manager_job_duration_seconds_bucket{kind="restore",status="cancelled",le="+Inf"} 0
        restic_manager_job_duration_seconds_count{kind="restore",status="cancelled"} 0
        restic_manager_job_duration_seconds_sum{kind="restore",status="cancelled"} 0
        # HELP restic_manager_hosts enrolled hosts by state
        # TYPE restic_manager_hosts gauge
        restic_manager_hosts{state="online"} 1
        restic_manager_hosts{state="offline"} 1
        # HELP restic_manager_agents_connected open agent connections
        # TYPE restic_manager_agents_connected gauge
        restic_manager_agents_connected 1
        # HELP restic_manager_host_online 1 online, 0 offline
        # TYPE restic_manager_host_online gauge
        restic_manager_host_online{host="app-2"} 0
        restic_manager_host_online{host="db-1"} 1
        # HELP restic_manager_host_last_seen_timestamp_seconds last frame from the agent
        # TYPE restic_manager_host_last_seen_timestamp_seconds gauge
        restic_manager_host_last_seen_timestamp_seconds{host="db-1"} 1700000000.5
        # HELP restic_manager_host_last_job_timestamp_seconds last finished job of that kind, any status
        # TYPE restic_manager_host_last_job_timestamp_seconds gauge
        restic_manager_host_last_job_timestamp_seconds{host="db-1",kind="backup"} 1699999990
        restic_manager_host_last_job_timestamp_seconds{host="db-1",kind="check"} 1699990000.12
        # HELP restic_manager_host_last_success_timestamp_seconds last job of that kind with status succeeded
        # TYPE restic_manager_host_last_success_timestamp_seconds gauge
        restic_manager_host_last_success_timestamp_seconds{host="db-1",kind="backup"} 1699999990
        # HELP restic_manager_host_last_snapshot_timestamp_seconds last backup that made a snapshot (succeeded or warning)
        # TYPE restic_manager_host_last_snapshot_timestamp_seconds gauge
        restic_manager_host_last_snapshot_timestamp_seconds{host="db-1"} 1699999990
        # HELP restic_manager_host_last_backup_added_bytes data_added of the last backup
        # TYPE restic_manager_host_last_backup_added_bytes gauge
        restic_manager_host_last_backup_added_bytes{host="db-1"} 123456789
        # HELP restic_manager_host_snapshots snapshots in the host's repository, from its latest repository.stats
        # TYPE restic_manager_host_snapshots gauge
        restic_manager_host_snapshots{host="db-1"} 48
        # HELP restic_manager_host_repository_size_bytes stored size of the repository (restic stats --mode raw-data)
        # TYPE restic_manager_host_repository_size_bytes gauge
        restic_manager_host_repository_size_bytes{host="db-1"} 5368709120
        # HELP restic_manager_host_repository_uncompressed_size_bytes uncompressed size, where restic reports it
        # TYPE restic_manager_host_repository_uncompressed_size_bytes gauge
        restic_manager_host_repository_uncompressed_size_bytes{host="db-1"} 8589934592
        # HELP restic_manager_host_repository_stats_timestamp_seconds when those statistics were collected
        # TYPE restic_manager_host_repository_stats_timestamp_seconds gauge
        restic_manager_host_repository_stats_timestamp_seconds{host="db-1"} 1700000000.25
        # HELP restic_manager_host_open_alerts open alerts of the host
        # TYPE restic_manager_host_open_alerts gauge
        restic_manager_host_open_alerts{host="app-2"} 2
        restic_manager_host_open_alerts{host="db-1"} 0
        # HELP restic_manager_host_info versions, kept out of other series
        # TYPE restic_manager_host_info gauge
        restic_manager_host_info{host="app-2",agent_version="",restic_version="",os=""} 1
        restic_manager_host_info{host="db-1",agent_version="0.1.0",restic_version="0.17.3",os="linux/amd64"} 1
        # HELP restic_manager_alerts_open open alerts; every known kind present from start
        # TYPE restic_manager_alerts_open gauge
        restic_manager_alerts_open{kind="backup_failed",severity="warning"} 0
        restic_manager_alerts_open{kind="forget_failed",severity="warning"} 0
        restic_manager_alerts_open{kind="prune_failed",severity="critical"} 0
        restic_manager_alerts_open{kind="check_failed",severity="critical"} 0
        restic_manager_alerts_open{kind="agent_offline",severity="warning"} 1
        restic_manager_alerts_open{kind="backup_partial",severity="warning"} 0
        restic_manager_alerts_open{kind="backup_stale",severity="warning"} 1
        # HELP restic_manager_build_info the running build
        # TYPE restic_manager_build_info gauge
        restic_manager_build_info{version="1.0.0",revision="0123456789ab",java_version="17.0.15"} 1
        """, text(PrometheusTextWriter.INSTANCE, twoHosts()));
  }

  @Test
  void familiesAreTheContractsWithTheirTypesLabelsAndUnits() {
    List<String> described = twoHosts().families().stream()
        .map(f -> f.name() + " " + (f instanceof HistogramFamily ? "histogram" : "gauge") + " " + f.labelNames()
            + (f.unit().isEmpty() ? "" : " " + f.unit()))
        .toList();
    assertEquals(List.of(
        "restic_manager_job_duration_seconds histogram [kind, status] seconds",
        "restic_manager_hosts gauge [state]",
        "restic_manager_agents_connected gauge []",
        "restic_manager_host_online gauge [host]",
        "restic_manager_host_last_seen_timestamp_seconds gauge [host] seconds",
        "restic_manager_host_last_job_timestamp_seconds gauge [host, kind] seconds",
        "restic_manager_host_last_success_timestamp_seconds gauge [host, kind] seconds",
        "restic_manager_host_last_snapshot_timestamp_seconds gauge [host] seconds",
        "restic_manager_host_last_backup_added_bytes gauge [host] bytes",
        "restic_manager_host_snapshots gauge [host]",
        "restic_manager_host_repository_size_bytes gauge [host] bytes",
        "restic_manager_host_repository_uncompressed_size_bytes gauge [host] bytes",
        "restic_manager_host_repository_stats_timestamp_seconds gauge [host] seconds",
        "restic_manager_host_open_alerts gauge [host]",
        "restic_manager_host_info gauge [host, agent_version, restic_version, os]",
        "restic_manager_alerts_open gauge [kind, severity]",
        "restic_manager_build_info gauge [version, revision, java_version]"), described);
  }

  @Test
  void anEmptyFleetStillHasEveryHistogramSeriesAlertKindAndHostState() {
    MetricsSnapshot snapshot =
        ServerMetrics.build(JobDurations.empty(), new FleetSample(List.of(), 0, Map.of()), BUILD);
    HistogramFamily durations = (HistogramFamily) snapshot.families().get(0);
    assertEquals(JobKind.values().length * JobStatus.values().length, durations.size());
    assertEquals(JobDurations.BUCKETS, durations.buckets());
    String text = text(PrometheusTextWriter.INSTANCE, snapshot);
    for (AlertKind kind : AlertKind.values()) {
      assertTrue(text.contains("restic_manager_alerts_open{kind=\"" + kind.wire() + "\",severity=\""
          + kind.severity().wire() + "\"} 0\n"), kind.wire());
    }
    assertTrue(text.contains("restic_manager_hosts{state=\"online\"} 0\nrestic_manager_hosts{state=\"offline\"} 0\n"));
    assertTrue(text.contains("# TYPE restic_manager_host_online gauge\n# HELP"), "no host rows, header kept");
  }

  /**
   * 3,000 hosts, unsorted, with every combination of missing values and names that need escaping: the
   * exposition built from the rows each host rendered ahead of time is byte for byte the one the writer
   * renders from plain gauge rows of the same values (an oracle built here, the way the families were
   * built before hosts held their lines), in both formats, whole, in parts of several sizes (which end
   * inside the per-host families, whose rows are handed over as slices), and as long as {@code length} says.
   */
  @Test
  void aLargeFleetFromPrerenderedHostRowsEqualsRenderingFromPlainRows() {
    List<HostSample> hosts = new ArrayList<>();
    for (int i = 2999; i >= 0; i--) {
      Map<JobKind, Long> jobs = new EnumMap<>(JobKind.class);
      Map<JobKind, Long> successes = new EnumMap<>(JobKind.class);
      for (JobKind kind : JobKind.values()) {
        if ((i + kind.ordinal()) % 3 != 0) jobs.put(kind, 1_700_000_000_000L + i * 1_001L + kind.ordinal());
        if ((i + kind.ordinal()) % 4 == 1) successes.put(kind, 1_699_000_000_000L + i * 7L);
      }
      String name = i % 97 == 0 ? "host-ü\"\\\n-" + i : "host-" + i;
      HostSample.Repository repository = i % 6 == 0 ? null
          : new HostSample.Repository(i % 50, i * 7_000_001L, i % 4 == 0 ? -1 : i * 9_000_001L, 1_700_000_000_000L + i);
      hosts.add(new HostSample(name, i % 2 == 0, i % 5 == 0 ? -1 : 1_700_000_000_000L + i, jobs, successes,
          i % 7 == 0 ? -1 : i * 1_000_003L, i % 4, i % 3 == 0 ? null : "0.1." + i, "0.17.3", i % 11 == 0 ? "" : "linux",
          i % 8 == 0 ? -1 : 1_699_500_000_000L + i * 3L, repository));
    }
    FleetSample fleet = new FleetSample(hosts, 1_500, Map.of(AlertKind.AGENT_OFFLINE, 1_500));
    JobDurations durations = JobDurations.empty().plus(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(42));
    MetricsSnapshot built = ServerMetrics.build(durations, fleet, BUILD);
    MetricsSnapshot oracle = fromPlainRows(built, hosts);

    for (MetricsTextWriter writer : List.of(PrometheusTextWriter.INSTANCE, OpenMetricsTextWriter.INSTANCE)) {
      byte[] expected = writer.toBytes(oracle);
      assertTrue(expected.length > 1_000_000, "a large body: " + expected.length);
      assertArrayEquals(expected, writer.toBytes(built));
      assertEquals(expected.length, writer.length(built));
      for (int partBytes : new int[] {4 * 1024, 64 * 1024, 256 * 1024}) {
        List<Integer> sizes = new ArrayList<>();
        assertArrayEquals(expected, MetricsTextWriterPartsTest.concatenated(writer.parts(built, partBytes), sizes),
            "parts of " + partBytes);
        assertTrue(sizes.size() > 3 && sizes.subList(0, sizes.size() - 1).stream().allMatch(n -> n >= partBytes),
            "parts of " + partBytes + ": " + sizes);
      }
    }
  }

  /** {@code built} with each per-host family replaced by a plain gauge family of the same rows. */
  private static MetricsSnapshot fromPlainRows(MetricsSnapshot built, List<HostSample> unsorted) {
    List<HostSample> hosts = unsorted.stream().sorted(java.util.Comparator.comparing(HostSample::name)).toList();
    List<MetricFamily> families = new ArrayList<>();
    for (MetricFamily f : built.families()) {
      if (!(f instanceof HostGaugeFamily)) {
        families.add(f);
        continue;
      }
      List<GaugeFamily.Row> rows = new ArrayList<>();
      for (HostSample h : hosts) {
        String n = h.name();
        switch (f.name().substring("restic_manager_".length())) {
          case "host_online" -> rows.add(GaugeFamily.Row.of(h.online() ? 1 : 0, n));
          case "host_last_seen_timestamp_seconds" -> {
            if (h.lastSeenEpochMillis() != -1) rows.add(GaugeFamily.Row.of(h.lastSeenEpochMillis() / 1000.0, n));
          }
          case "host_last_job_timestamp_seconds" -> perKind(rows, n, h.lastJobEpochMillis());
          case "host_last_success_timestamp_seconds" -> perKind(rows, n, h.lastSuccessEpochMillis());
          case "host_last_snapshot_timestamp_seconds" -> {
            if (h.lastSnapshotEpochMillis() != -1) {
              rows.add(GaugeFamily.Row.of(h.lastSnapshotEpochMillis() / 1000.0, n));
            }
          }
          case "host_last_backup_added_bytes" -> {
            if (h.lastBackupAddedBytes() != -1) rows.add(GaugeFamily.Row.of(h.lastBackupAddedBytes(), n));
          }
          case "host_snapshots" -> {
            if (h.repository() != null) rows.add(GaugeFamily.Row.of(h.repository().snapshots(), n));
          }
          case "host_repository_size_bytes" -> {
            if (h.repository() != null) rows.add(GaugeFamily.Row.of(h.repository().sizeBytes(), n));
          }
          case "host_repository_uncompressed_size_bytes" -> {
            if (h.repository() != null && h.repository().uncompressedSizeBytes() != -1) {
              rows.add(GaugeFamily.Row.of(h.repository().uncompressedSizeBytes(), n));
            }
          }
          case "host_repository_stats_timestamp_seconds" -> {
            if (h.repository() != null) rows.add(GaugeFamily.Row.of(h.repository().collectedAtEpochMillis() / 1000.0, n));
          }
          case "host_open_alerts" -> rows.add(GaugeFamily.Row.of(h.openAlerts(), n));
          case "host_info" -> rows.add(GaugeFamily.Row.of(1, n, h.agentVersion(), h.resticVersion(), h.os()));
          default -> fail("unknown per-host family " + f.name());
        }
      }
      families.add(new GaugeFamily(f.name(), f.help(), f.unit(), f.labelNames(), rows));
    }
    return new MetricsSnapshot(families);
  }

  private static void perKind(List<GaugeFamily.Row> rows, String host, Map<JobKind, Long> ends) {
    for (JobKind kind : JobKind.values()) {
      Long at = ends.get(kind);
      if (at != null) rows.add(GaugeFamily.Row.of(at / 1000.0, host, kind.wire()));
    }
  }

  @Test
  void aHostListedTwiceIsRejected() {
    HostSample host = new HostSample("db-1", true, 1, Map.of(), Map.of(), -1, 0, "", "", "");
    FleetSample fleet = new FleetSample(List.of(host, host), 1, Map.of());
    assertThrows(IllegalArgumentException.class, () -> ServerMetrics.build(JobDurations.empty(), fleet, BUILD));
  }

  @Test
  void openMetricsOutputCarriesUnitsAndEndsWithEof() {
    String text = text(OpenMetricsTextWriter.INSTANCE, twoHosts());
    assertTrue(text.startsWith("""
        # TYPE restic_manager_job_duration_seconds histogram
        # UNIT restic_manager_job_duration_seconds seconds
        # HELP restic_manager_job_duration_seconds finished jobs
        restic_manager_job_duration_seconds_bucket{kind="backup",status="succeeded",le="1.0"} 0
        """), text.substring(0, 300));
    assertTrue(text.contains("""
        # TYPE restic_manager_host_last_backup_added_bytes gauge
        # UNIT restic_manager_host_last_backup_added_bytes bytes
        # HELP restic_manager_host_last_backup_added_bytes data_added of the last backup
        restic_manager_host_last_backup_added_bytes{host="db-1"} 123456789
        """));
    assertTrue(text.endsWith("java_version=\"17.0.15\"} 1\n# EOF\n"));
  }

  @Test
  void promtoolAcceptsTheTextOutput() throws Exception {
    Path promtool = findPromtool().orElse(null);
    if (promtool == null) {
      if ("1".equals(System.getenv("RM_REQUIRE_TOOLS"))) fail("RM_REQUIRE_TOOLS=1 but promtool is not installed");
      Assumptions.abort("promtool is not installed");
    }
    FleetSample fleet = new FleetSample(List.of(
        new HostSample("db-1", true, 1_700_000_000_500L, Map.of(JobKind.BACKUP, 1_699_999_990_000L),
            Map.of(JobKind.BACKUP, 1_699_999_990_000L), 42, 1, "0.1.0", "0.17.3", "linux \"quoted\" \\ \n ünïcode",
            1_699_999_990_000L, new HostSample.Repository(3, 4096, -1, 1_700_000_000_000L)),
        new HostSample("web-2", false, -1, Map.of(), Map.of(), -1, 0, null, null, null)),
        1, Map.of(AlertKind.BACKUP_FAILED, 1));
    byte[] exposition = PrometheusTextWriter.INSTANCE.toBytes(ServerMetrics.build(
        JobDurations.empty().plus(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofMinutes(7)), fleet, BUILD));

    Process process = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(exposition);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
    assertEquals(0, process.exitValue(), "promtool check metrics said:\n" + output);
  }

  private static Optional<Path> findPromtool() {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.concat(Stream.of("/usr/bin"), Stream.of(path.split(File.pathSeparator)))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, "promtool"))
        .filter(Files::isExecutable)
        .findFirst();
  }
}
