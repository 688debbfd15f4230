package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.Json;
import io.resticmanager.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests Pekko cannot parse get the contract's JSON error body, and the server keeps serving. */
class ParsingErrorsIT {
  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void anInvalidUriIs400WithAJsonBody() throws Exception {
    assertJsonError(send("GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400, "bad_request");
  }

  @Test
  void anUnknownMethodIs501WithAJsonBody() throws Exception {
    assertJsonError(send("BREW /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 501, "not_implemented");
  }

  @Test
  void anOverLongUriIs414WithAJsonBody() throws Exception {
    String path = "/" + "a".repeat(10_000);
    assertJsonError(send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 414, "uri_too_long");
  }

  @Test
  void theErrorBodyDoesNotQuoteTheRequest() throws Exception {
    // Pekko's summary for this one quotes the whole header value.
    String response = send("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: s3cr3t-t0ken\r\nConnection: close\r\n\r\n");
    assertJsonError(response, 400, "bad_request");
    assertFalse(response.contains("s3cr3t-t0ken"), response);
  }

  @Test
  void codesAreTheReasonPhraseInSnakeCase() {
    assertEquals("bad_request", JsonParsingErrors.code((org.apache.pekko.http.scaladsl.model.StatusCode) StatusCodes.BAD_REQUEST));
    assertEquals("request_header_fields_too_large", JsonParsingErrors.code(
        (org.apache.pekko.http.scaladsl.model.StatusCode) StatusCodes.REQUEST_HEADER_FIELDS_TOO_LARGE));
  }

  private static void assertJsonError(String response, int status, String code) throws Exception {
    String[] parts = response.split("\r\n\r\n", 2);
    assertTrue(parts[0].startsWith("HTTP/1.1 " + status + " "), parts[0]);
    assertTrue(parts[0].toLowerCase().contains("content-type: application/json"), parts[0]);
    Map<String, Object> body = Json.object(parts[1]);
    assertEquals(code, body.get("error"), parts[1]);
    assertTrue(!String.valueOf(body.get("message")).isBlank(), parts[1]);
    // Still serving.
    assertTrue(send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200 "));
  }

  private static String send(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(UTF_8));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(UTF_8);
    }
  }
}
