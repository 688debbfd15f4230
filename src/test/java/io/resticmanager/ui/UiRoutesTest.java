package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class UiRoutesTest {
  @Test
  void formBodiesAreDecodedFirstValueWins() {
    assertEquals(Map.of("token", "a b+c/=", "csrf", "x"),
        UiRoutes.parseForm("token=a+b%2Bc%2F%3D&csrf=x&csrf=y").orElseThrow());
    assertEquals(Map.of("flag", ""), UiRoutes.parseForm("flag&&").orElseThrow());
    assertEquals(Map.of(), UiRoutes.parseForm("").orElseThrow());
  }

  @Test
  void aBodyThatDoesNotDecodeIsRefused() {
    assertTrue(UiRoutes.parseForm("token=%zz").isEmpty());
    assertTrue(UiRoutes.parseForm("token=%").isEmpty());
  }

  @Test
  void anAcknowledgeReturnsOnlyToThisServersPages() {
    String host = "/ui/hosts/0f8fad5b-d9cb-469f-a165-70867728950e";
    assertEquals(host, UiRoutes.safeBack(host));
    assertEquals("/ui/alerts", UiRoutes.safeBack("/ui/alerts"));
    assertEquals("/ui/alerts", UiRoutes.safeBack("https://evil.example/"));
    assertEquals("/ui/alerts", UiRoutes.safeBack("//evil.example/"));
    assertEquals("/ui/alerts", UiRoutes.safeBack("/ui/hosts/x?y"));
    assertEquals("/ui/alerts", UiRoutes.safeBack(null));
  }
}
