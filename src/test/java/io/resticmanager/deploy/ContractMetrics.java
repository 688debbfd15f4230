package io.resticmanager.deploy;

import java.util.Set;
import java.util.TreeSet;

/**
 * The metric families of CONTRACT §5 and §7, as names a PromQL expression may use. Test-side copy on
 * purpose: a rename in the exporter must fail the dashboard and rule checks until they follow.
 */
public final class ContractMetrics {
  /** The one histogram family; PromQL sees it only through its _bucket, _count and _sum series. */
  public static final String HISTOGRAM = "restic_manager_job_duration_seconds";

  /** Every non-histogram family. */
  public static final Set<String> GAUGES = Set.of(
      "restic_manager_hosts",
      "restic_manager_agents_connected",
      "restic_manager_host_online",
      "restic_manager_host_last_seen_timestamp_seconds",
      "restic_manager_host_last_job_timestamp_seconds",
      "restic_manager_host_last_success_timestamp_seconds",
      "restic_manager_host_last_snapshot_timestamp_seconds",
      "restic_manager_host_last_backup_added_bytes",
      "restic_manager_host_snapshots",
      "restic_manager_host_repository_size_bytes",
      "restic_manager_host_repository_uncompressed_size_bytes",
      "restic_manager_host_repository_stats_timestamp_seconds",
      "restic_manager_host_open_alerts",
      "restic_manager_host_info",
      "restic_manager_alerts_open",
      "restic_manager_build_info",
      "restic_manager_cluster_members");

  private ContractMetrics() {}

  /** Every series name the contract's families produce. */
  public static Set<String> seriesNames() {
    Set<String> names = new TreeSet<>(GAUGES);
    names.add(HISTOGRAM + "_bucket");
    names.add(HISTOGRAM + "_count");
    names.add(HISTOGRAM + "_sum");
    return names;
  }
}
