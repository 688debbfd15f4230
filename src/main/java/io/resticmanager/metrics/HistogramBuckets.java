package io.resticmanager.metrics;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The finite upper bounds of a histogram, strictly increasing, with their {@code le} label values
 * rendered once in canonical form. The {@code +Inf} bucket is implicit and never listed.
 *
 * <p>Canonical form is what the OpenMetrics 1.0 spec asks for ("Canonical Numbers"): Go's {@code %g}
 * rendering with {@code .0} appended when there is neither a point nor an exponent, e.g. {@code 1.0},
 * {@code 0.005}, {@code 86400.0}, {@code 1e+06}, {@code 1e-05}. Both writers use it, so a series keeps the
 * same {@code le} whichever format was negotiated. Immutable; built once per bucket layout (for example
 * the job-duration constant) and shared by producers and writers.
 */
public final class HistogramBuckets {

  private static final String INF = "+Inf";
  private static final byte[] INF_BYTES = INF.getBytes(StandardCharsets.US_ASCII);

  private final double[] upperBounds;
  private final String[] le;
  private final byte[][] leBytes;

  private HistogramBuckets(double[] upperBounds) {
    this.upperBounds = upperBounds;
    this.le = new String[upperBounds.length + 1];
    this.leBytes = new byte[upperBounds.length + 1][];
    for (int i = 0; i < upperBounds.length; i++) {
      le[i] = canonical(upperBounds[i]);
      leBytes[i] = le[i].getBytes(StandardCharsets.US_ASCII);
    }
    le[upperBounds.length] = INF;
    leBytes[upperBounds.length] = INF_BYTES;
  }

  /** Finite, strictly increasing upper bounds; {@code +Inf} is added implicitly and must not be given. */
  public static HistogramBuckets of(double... upperBounds) {
    double[] copy = upperBounds.clone();
    for (int i = 0; i < copy.length; i++) {
      if (!Double.isFinite(copy[i])) {
        throw new IllegalArgumentException("bucket bound [" + copy[i] + "] is not finite (+Inf is implicit)");
      }
      if (i > 0 && !(copy[i] > copy[i - 1])) {
        throw new IllegalArgumentException("bucket bounds must be strictly increasing: " + Arrays.toString(copy));
      }
    }
    return new HistogramBuckets(copy);
  }

  /** Number of finite bounds. */
  public int size() {
    return upperBounds.length;
  }

  public double upperBound(int i) {
    return upperBounds[i];
  }

  public double[] upperBounds() {
    return upperBounds.clone();
  }

  /** The {@code le} label value of bucket {@code i}; {@code i == size()} is the {@code +Inf} bucket. */
  public String le(int i) {
    return le[i];
  }

  byte[] leBytes(int i) {
    return leBytes[i];
  }

  /** OpenMetrics canonical number: Go {@code strconv.FormatFloat(v, 'g', -1, 64)} plus {@code .0}. */
  static String canonical(double v) {
    if (v == 0) return "0.0";
    BigDecimal d = new BigDecimal(Double.toString(Math.abs(v))).stripTrailingZeros();
    String digits = d.unscaledValue().toString();
    int exponent = digits.length() - 1 - d.scale();
    String sign = v < 0 ? "-" : "";
    if (exponent < -4 || exponent >= 6) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      int e = Math.abs(exponent);
      return sign + mantissa + (exponent < 0 ? "e-" : "e+") + (e < 10 ? "0" : "") + e;
    }
    String plain = d.toPlainString();
    return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HistogramBuckets other && Arrays.equals(upperBounds, other.upperBounds);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(upperBounds);
  }

  @Override
  public String toString() {
    return "HistogramBuckets" + Arrays.toString(le);
  }
}
