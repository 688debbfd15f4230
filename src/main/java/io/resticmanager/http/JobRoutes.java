package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.store.JobStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/jobs?host={id}&kind=K&status=S&limit=N&before=C}: newest first, read from the store
 * one page at a time; a {@code Link: rel="next"} header continues the list while more jobs remain.
 */
public final class JobRoutes extends ApiDirectives {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;
  private static final List<String> KINDS = Arrays.stream(JobKind.values()).map(JobKind::wire).toList();
  private static final List<String> STATUSES = statuses();

  private final JobStore jobs;

  public JobRoutes(String adminToken, JobStore jobs) {
    super(adminToken);
    this.jobs = jobs;
  }

  public Route route() {
    return path(segment("api").slash("v1").slash("jobs"), () -> get(() -> admin(() ->
        parameterOptional("host", host -> choiceParameter("kind", KINDS, kind -> choiceParameter("status", STATUSES,
            status -> pageParameters(DEFAULT_LIMIT, MAX_LIMIT, (limit, before) -> await(
                jobs.list(new JobStore.Query(host, kind.flatMap(JobKind::fromWire), status, limit, before)),
                page -> completePage(page, ApiJson::job)))))))));
  }

  /** {@code running} (not finished yet) and every finished status. */
  private static List<String> statuses() {
    List<String> out = new ArrayList<>(List.of("running"));
    for (JobStatus s : JobStatus.values()) out.add(s.wire());
    return List.copyOf(out);
  }
}
