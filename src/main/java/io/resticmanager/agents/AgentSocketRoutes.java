package io.resticmanager.agents;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.http.ApiDirectives;
import io.resticmanager.http.BearerToken;
import io.resticmanager.store.HostStore;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/agents/ws}: authenticates the agent token before any upgrade (401 otherwise; the
 * token is looked up by its SHA-256, never compared in plain), then hands the socket to
 * {@link AgentSocket}. A request that is not a WebSocket upgrade gets 400.
 */
public final class AgentSocketRoutes extends AllDirectives {
  private final HostStore hosts;
  private final AgentSocket socket;

  public AgentSocketRoutes(HostStore hosts, AgentSocket socket) {
    this.hosts = hosts;
    this.socket = socket;
  }

  public Route route() {
    return path(segment("api").slash("v1").slash("agents").slash("ws"), () -> get(() ->
        optionalHeaderValueByName("Authorization", header -> {
          Optional<String> token = BearerToken.extract(header);
          if (token.isEmpty()) return complete(ApiDirectives.unauthorized("An agent bearer token is required."));
          return onSuccess(hosts.hostOfAgentToken(token.get()), host -> {
            if (host.isEmpty()) return complete(ApiDirectives.unauthorized("The agent token is unknown or revoked."));
            return extractRequest(request -> request.getAttribute(AttributeKeys.webSocketUpgrade)
                .map(upgrade -> complete(socket.accept(upgrade, host.get())))
                .orElseGet(() -> complete(ApiDirectives.error(StatusCodes.BAD_REQUEST, "bad_request",
                    "This endpoint takes a WebSocket upgrade."))));
          });
        })));
  }
}
