package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.store.JobStore;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /api/v1/jobs?host={id}&limit=N}: newest first, read from the store. */
public final class JobRoutes extends ApiDirectives {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;

  private final JobStore jobs;

  public JobRoutes(String adminToken, JobStore jobs) {
    super(adminToken);
    this.jobs = jobs;
  }

  public Route route() {
    return path(segment("api").slash("v1").slash("jobs"), () -> get(() -> admin(() ->
        parameterOptional("host", host -> limitParameter(DEFAULT_LIMIT, MAX_LIMIT, limit ->
            await(jobs.list(host.orElse(null), limit),
                rows -> complete(json(StatusCodes.OK, ApiJson.array(rows, ApiJson::job)))))))));
  }
}
