package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Enrollment} over several server URLs against {@link FakeAgentServer}s: a node that cannot
 * answer hands over to the next URL at once, a refusal is final.
 */
class EnrollmentIT {
  @TempDir Path dir;
  private final List<FakeAgentServer> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(FakeAgentServer::close);
  }

  private FakeAgentServer server(int enrollStatus) throws Exception {
    FakeAgentServer s = new FakeAgentServer("earned-agent-token");
    servers.add(s);
    s.enrollStatus = enrollStatus;
    if (enrollStatus >= 400) s.enrollBody = "{\"error\":\"x\",\"message\":\"no\"}";
    s.start(0);
    return s;
  }

  private String enroll(Random order, int... ports) throws Exception {
    StringBuilder urls = new StringBuilder();
    for (int p : ports) urls.append(urls.length() == 0 ? "" : ",").append("http://127.0.0.1:").append(p);
    AgentSettings s = AgentSettings.load(Optional.empty(), Map.of("RM_SERVER_URL", urls.toString(),
        "RM_ENROLLMENT_TOKEN", "one-time-enrollment", "RM_HOSTNAME", "web-01",
        "RM_DATA_DIR", dir.resolve("data").toString()));
    return Enrollment.agentToken(s, HttpClient.newHttpClient(), Rounds.minuteBackoff(), order, new CountDownLatch(1));
  }

  @Test
  void anUnreachableNodeAndOneAnswering503HandOverToTheNextUrlAtOnce() throws Exception {
    FakeAgentServer busy = server(503);
    FakeAgentServer live = server(201);
    assertEquals("earned-agent-token", enroll(Rounds.keepOrder(), Rounds.deadPort(), busy.port(), live.port()));
    assertNotNull(busy.enrollRequests.poll(0, TimeUnit.SECONDS), "the 503 node was asked first");
    assertNotNull(live.enrollRequests.poll(0, TimeUnit.SECONDS));
  }

  @Test
  void aRefusalIsFinalEvenWhenAnotherUrlIsLeft() throws Exception {
    FakeAgentServer refusing = server(401);
    FakeAgentServer live = server(201);
    Enrollment.Refused e = assertThrows(Enrollment.Refused.class,
        () -> enroll(Rounds.keepOrder(), refusing.port(), live.port()));
    assertTrue(e.getMessage().contains("(401)"), e.getMessage());
    assertTrue(live.enrollRequests.isEmpty(), "the second node was not asked");
  }

  @Test
  void theRandomPicksWhichNodeIsAskedFirst() throws Exception {
    FakeAgentServer first = server(201);
    FakeAgentServer second = server(201);
    enroll(Rounds.swapTwo(), first.port(), second.port());
    assertTrue(first.enrollRequests.isEmpty());
    assertEquals(1, second.enrollRequests.size());
  }
}
