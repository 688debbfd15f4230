package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.fleet.Fleet;
import io.resticmanager.store.HostStore;
import java.time.Duration;
import java.util.UUID;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enrollment: the admin creates one-use enrollment tokens; a new agent trades one for its own agent
 * token and a host. Tokens travel only in replies, never into logs.
 */
public final class EnrollmentRoutes extends ApiDirectives {
  private static final Logger log = LoggerFactory.getLogger(EnrollmentRoutes.class);
  private static final long MAX_TTL_SECONDS = 30L * 24 * 3600;

  private final HostStore hosts;
  private final Fleet fleet;
  private final Duration defaultTtl;

  public EnrollmentRoutes(String adminToken, HostStore hosts, Fleet fleet, Duration defaultTtl) {
    super(adminToken);
    this.hosts = hosts;
    this.fleet = fleet;
    this.defaultTtl = defaultTtl;
  }

  public Route route() {
    return concat(
        path(segment("api").slash("v1").slash("enrollment-tokens"), () -> post(() -> admin(() ->
            jsonBody(body -> {
              long ttlMillis = ApiJson.parseTtlSeconds(body, MAX_TTL_SECONDS).orElse(defaultTtl.toSeconds()) * 1000;
              return await(hosts.createEnrollmentToken(System.currentTimeMillis(), ttlMillis), t -> complete(
                  json(StatusCodes.CREATED, ApiJson.enrollmentToken(t.token(), t.expiresAt()))));
            })))),
        path(segment("api").slash("v1").slash("agents").slash("enroll"), () -> post(() -> jsonBody(body -> {
          ApiJson.EnrollRequest req = ApiJson.parseEnroll(body);
          String hostId = UUID.randomUUID().toString();
          return await(hosts.enroll(req.enrollmentToken(), req.hostname(), hostId, System.currentTimeMillis()),
              outcome -> {
                if (outcome instanceof HostStore.Enrolled e) {
                  fleet.wake(e.host().id());
                  log.info("Host [{}] enrolled as [{}]", e.host().name(), e.host().id());
                  return complete(json(StatusCodes.CREATED, ApiJson.enrolled(e.host().id(), e.agentToken())));
                }
                if (outcome instanceof HostStore.DuplicateHost) {
                  return complete(error(StatusCodes.CONFLICT, "host_exists",
                      "A host named \"" + req.hostname() + "\" is already enrolled."));
                }
                return complete(unauthorized("The enrollment token is unknown, used or expired."));
              });
        }))));
  }
}
