package io.resticmanager.http;

import io.resticmanager.http.ScrapeGuard.Decision;
import io.resticmanager.http.ScrapeGuard.ScrapePolicy;
import io.resticmanager.http.ScrapeGuard.TokenFileReader;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code authorizeScrape} directive that guards {@code /metrics}; the metrics routes wrap their
 * route in it. It gathers the inputs from the request (the real TCP peer from
 * {@link AttributeKeys#remoteAddress}, every {@code X-Forwarded-For} line, the {@code Authorization}
 * header), lets {@link ClientAddress} and {@link ScrapeGuard} decide, and answers a denial with the
 * contract's JSON error.
 *
 * <p>The peer attribute exists only with {@code pekko.http.server.remote-address-attribute = on}; without
 * it there is no client address, so a CIDR rule denies. It never uses {@code extractClientIP} (which
 * believes client headers) and never puts a token or the token file's contents in a response or a log
 * line: an unreadable token file is logged at WARN by path only. The token file is read on Pekko's
 * blocking-I/O dispatcher, never on the routing thread.
 */
public class ScrapeDirectives extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ScrapeDirectives.class);
  private static final String BLOCKING_IO_DISPATCHER = "pekko.actor.default-blocking-io-dispatcher";

  private final TokenFileReader reader;

  /** Reads the token file with {@link TokenFileReader#utf8()}. */
  public ScrapeDirectives() {
    this(TokenFileReader.utf8());
  }

  /** Reads the token file through {@code reader}. */
  public ScrapeDirectives(TokenFileReader reader) {
    this.reader = reader;
  }

  /**
   * Runs {@code inner} only when {@code policy} lets this request scrape; otherwise answers 401 (with
   * {@code WWW-Authenticate: Bearer}), 403 or 503. A policy with no rule rejects, so the path is not
   * mounted and answers 404.
   */
  public Route authorizeScrape(ScrapePolicy policy, Supplier<Route> inner) {
    if (!policy.enabled()) return reject();
    return extractRequest(request -> {
      Optional<InetAddress> peer =
          request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress);
      Optional<InetAddress> client =
          ClientAddress.resolve(peer, headerValues(request, "x-forwarded-for"), policy.trustedProxies());
      Optional<String> authorization = singleHeaderValue(request, "authorization");
      if (policy.tokenFile().isEmpty()) {
        return answer(policy, ScrapeGuard.decide(policy, client, authorization, reader), inner);
      }
      return extractActorSystem(system -> onSuccess(
          () -> CompletableFuture.supplyAsync(
              () -> ScrapeGuard.decide(policy, client, authorization, reader), blockingIo(system)),
          decision -> answer(policy, decision, inner)));
    });
  }

  private Route answer(ScrapePolicy policy, Decision decision, Supplier<Route> inner) {
    return switch (decision) {
      case ALLOW -> inner.get();
      case UNAUTHORIZED -> complete(
          ApiDirectives.unauthorized("A valid bearer token is required to scrape /metrics."));
      case FORBIDDEN -> complete(
          ApiDirectives.error(StatusCodes.FORBIDDEN, "forbidden", "This client address may not scrape /metrics."));
      case UNAVAILABLE -> {
        log.warn("Metrics token file [{}] is unreadable or empty; answering scrapes with 503",
            policy.tokenFile().map(Object::toString).orElse(""));
        yield complete(ApiDirectives.error(
            StatusCodes.SERVICE_UNAVAILABLE, "unavailable", "The metrics token cannot be read; try again later."));
      }
    };
  }

  private static List<String> headerValues(HttpRequest request, String lowercaseName) {
    List<String> values = new ArrayList<>();
    for (HttpHeader h : request.getHeaders()) {
      if (h.is(lowercaseName)) values.add(h.value());
    }
    return values;
  }

  /** Two {@code Authorization} lines are ambiguous, so they count as none. */
  private static Optional<String> singleHeaderValue(HttpRequest request, String lowercaseName) {
    List<String> values = headerValues(request, lowercaseName);
    return values.size() == 1 ? Optional.of(values.get(0)) : Optional.empty();
  }

  private static Executor blockingIo(ActorSystem system) {
    return system.dispatchers().lookup(BLOCKING_IO_DISPATCHER);
  }
}
