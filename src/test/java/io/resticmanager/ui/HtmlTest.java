package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HtmlTest {
  @Test
  void markupAndQuotesBecomeEntities() {
    assertEquals("&lt;script&gt;alert(1)&lt;/script&gt;", Html.esc("<script>alert(1)</script>"));
    assertEquals("&lt;img src=x onerror=alert(1)&gt;", Html.esc("<img src=x onerror=alert(1)>"));
    assertEquals("a&amp;b &quot;q&quot; &#39;s&#39;", Html.esc("a&b \"q\" 's'"));
  }

  @Test
  void controlCharactersAreDroppedAndTextIsKept() {
    assertEquals("ab\tc\nd", Html.esc("a\u0000b\tc\nd\u007f"));
    assertEquals("Zürich — 東京", Html.esc("Zürich — 東京"));
    assertEquals("", Html.esc((String) null));
  }

  @Test
  void agesSizesAndDurationsReadShort() {
    assertEquals("0s", Html.age(-5_000));
    assertEquals("59s", Html.age(59_999));
    assertEquals("12m", Html.age(12 * 60_000));
    assertEquals("30h 5m", Html.age((30 * 60 + 5) * 60_000L));
    assertEquals("3d 4h", Html.age((3 * 24 + 4) * 3_600_000L));
    assertEquals("512 B", Html.bytes(512));
    assertEquals("1.5 KiB", Html.bytes(1536));
    assertEquals("5.0 MiB", Html.bytes(5L << 20));
    assertEquals("97.0 GiB", Html.bytes(97L << 30));
    assertEquals("1.5s", Html.seconds(1.5));
    assertEquals("2m 3s", Html.seconds(123));
    assertEquals("1h 2m", Html.seconds(3720));
  }
}
