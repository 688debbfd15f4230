package io.resticmanager.support;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import scala.jdk.javaapi.CollectionConverters;
import spray.json.JsArray;
import spray.json.JsBoolean;
import spray.json.JsNull$;
import spray.json.JsNumber;
import spray.json.JsObject;
import spray.json.JsString;
import spray.json.JsValue;
import spray.json.JsonParser;
import spray.json.ParserInput;

/**
 * Reads JSON replies and frames in tests into plain Java values: {@code Map<String, Object>},
 * {@code List<Object>}, {@code String}, {@code BigDecimal}, {@code Boolean} and {@code null}.
 */
public final class Json {
  private Json() {}

  public static Object parse(String text) {
    return toJava(JsonParser.apply(ParserInput.apply(text)));
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) throw new AssertionError("not a JSON object: " + text);
    return (Map<String, Object>) v;
  }

  /** A JSON array of objects. */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> objects(String text) {
    Object v = parse(text);
    if (!(v instanceof List)) throw new AssertionError("not a JSON array: " + text);
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : (List<Object>) v) out.add((Map<String, Object>) o);
    return out;
  }

  /** The object's member as a string (null when absent or JSON null). */
  public static String str(Map<String, Object> o, String key) {
    Object v = o.get(key);
    return v == null ? null : v.toString();
  }

  public static double num(Map<String, Object> o, String key) {
    Object v = o.get(key);
    if (!(v instanceof BigDecimal d)) throw new AssertionError("\"" + key + "\" is not a number in " + o);
    return d.doubleValue();
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> obj(Map<String, Object> o, String key) {
    Object v = o.get(key);
    if (!(v instanceof Map)) throw new AssertionError("\"" + key + "\" is not an object in " + o);
    return (Map<String, Object>) v;
  }

  private static Object toJava(JsValue v) {
    if (v instanceof JsObject o) {
      Map<String, Object> m = new LinkedHashMap<>();
      CollectionConverters.asJava(o.fields()).forEach((k, x) -> m.put(k, toJava(x)));
      return m;
    }
    if (v instanceof JsArray a) {
      List<Object> l = new ArrayList<>();
      for (JsValue x : CollectionConverters.asJava(a.elements())) l.add(toJava(x));
      return l;
    }
    if (v instanceof JsString s) return s.value();
    if (v instanceof JsNumber n) return n.value().bigDecimal();
    if (v instanceof JsBoolean b) return b.value();
    if (v == JsNull$.MODULE$) return null;
    throw new AssertionError("unexpected JSON value " + v);
  }
}
