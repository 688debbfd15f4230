package io.resticmanager.http;

import java.util.Locale;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests Pekko HTTP cannot parse (an invalid URI, an unknown method, an over-long request
 * line or headers) with the contract's JSON error body instead of Pekko's plain text. These never
 * reach the routes, so the rejection and exception handlers do not see them. Configured as
 * {@code pekko.http.server.parsing.error-handler}; Pekko creates it with its no-argument constructor.
 *
 * <p>Neither the log line nor the body quotes the request: Pekko's error summary can quote part of the
 * request line or of a header ("Invalid input 'x'", "Unsupported Transfer-Encoding 'x'"), and a request
 * line can carry a token in its query string. The log names the status; the body's message is Pekko's
 * fixed text for the status.
 */
public final class JsonParsingErrors extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    if (log.isInfoEnabled()) log.info("Refused a request that could not be parsed: {}", status.intValue());
    return ApiDirectives.error(status, code(status), status.defaultMessage());
  }

  /** The error code for a status: its reason phrase in snake case ("Not Implemented": not_implemented). */
  static String code(StatusCode status) {
    String snake = status.reason().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    return snake.replaceAll("^_+|_+$", "");
  }
}
