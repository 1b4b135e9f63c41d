package carbon.peer;

/**
 * The platform's feature vector (actors/features/README.md), written again in Java from that table: the same
 * definitions over the same window of 50 prices. A null is the platform's undefined (NULL in the table).
 */
final class Features {
  static final double EWMA_DECAY = 0.94;
  static final int EWMA_MIN_RETURNS = 20;

  final long tsMs;
  final double price;
  final Double simpleReturn;
  final Double logReturn;
  final boolean nonPositivePrice;
  final Double sma5;
  final Double sma20;
  final double ema5;
  final double ema20;
  final Double volatility20;
  final Double ewmaVolatility;
  final Double zScore;
  final Double rsi14;
  final Double momentum10;
  final double windowMin;
  final double windowMax;
  final long tickCount;

  Features(TickWindow w) {
    double[] p = w.prices;
    int n = w.n;
    price = p[n - 1];
    tsMs = w.ts[n - 1];
    Double previous = n >= 2 ? p[n - 2] : null;
    simpleReturn = previous == null ? null : simpleReturn(previous, price);
    logReturn = previous == null ? null : logReturn(previous, price);
    nonPositivePrice = price <= 0 || (previous != null && previous <= 0);
    sma5 = sma(p, n, 5);
    sma20 = sma(p, n, 20);
    ema5 = ema(p, n, 5);
    ema20 = ema(p, n, 20);
    volatility20 = returnVolatility(p, n, 20);
    ewmaVolatility = ewmaVolatility(p, n);
    zScore = returnZScore(p, n, 20);
    rsi14 = rsi(p, n, 14);
    momentum10 = n < 11 ? null : finite(p[n - 1] - p[n - 11]);
    double lo = price;
    double hi = price;
    for (int i = 0; i < n - 1; i++) {
      lo = Math.min(lo, p[i]);
      hi = Math.max(hi, p[i]);
    }
    windowMin = lo;
    windowMax = hi;
    tickCount = w.tickCount;
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static Double simpleReturn(double previous, double current) {
    return previous == 0 ? null : finite((current - previous) / Math.abs(previous));
  }

  static Double logReturn(double previous, double current) {
    return previous > 0 && current > 0 ? finite(Math.log(current / previous)) : null;
  }

  private static Double sma(double[] p, int n, int period) {
    if (n < period) return null;
    double sum = 0;
    for (int i = n - period; i < n; i++) sum += p[i];
    return finite(sum / period);
  }

  private static double ema(double[] p, int n, int period) {
    double alpha = 2.0 / (period + 1);
    double e = p[0];
    for (int i = 1; i < n; i++) e += alpha * (p[i] - e);
    return e;
  }

  /** Mean of the `count` simple returns ending with the one into p[last]; null if one does not exist. */
  private static Double meanOfReturns(double[] p, int last, int count) {
    double sum = 0;
    for (int i = last - count + 1; i <= last; i++) {
      if (p[i - 1] == 0) return null;
      sum += (p[i] - p[i - 1]) / Math.abs(p[i - 1]);
    }
    return sum / count;
  }

  private static double stdOfReturns(double[] p, int last, int count, double mean) {
    double squares = 0;
    for (int i = last - count + 1; i <= last; i++) {
      double d = (p[i] - p[i - 1]) / Math.abs(p[i - 1]) - mean;
      squares += d * d;
    }
    return Math.sqrt(squares / (count - 1));
  }

  private static Double returnVolatility(double[] p, int n, int period) {
    int last = n - 1;
    if (last < period) return null;
    Double mean = meanOfReturns(p, last, period);
    return mean == null ? null : finite(stdOfReturns(p, last, period, mean));
  }

  private static Double returnZScore(double[] p, int n, int period) {
    int last = n - 1;
    if (last < period + 1) return null;
    Double latest = simpleReturn(p[last - 1], p[last]);
    if (latest == null) return null;
    Double mean = meanOfReturns(p, last - 1, period);
    if (mean == null) return null;
    double std = stdOfReturns(p, last - 1, period, mean);
    return std == 0 ? null : finite((latest - mean) / std);
  }

  private static Double ewmaVolatility(double[] p, int n) {
    int count = 0;
    double sumSquares = 0;
    for (int i = 1; i < n; i++) {
      Double r = logReturn(p[i - 1], p[i]);
      if (r == null) continue;
      count++;
      sumSquares += r * r;
    }
    if (count < EWMA_MIN_RETURNS) return null;
    double variance = sumSquares / count;
    for (int i = 1; i < n; i++) {
      Double r = logReturn(p[i - 1], p[i]);
      if (r != null) variance = EWMA_DECAY * variance + (1 - EWMA_DECAY) * r * r;
    }
    return finite(Math.sqrt(variance));
  }

  private static Double rsi(double[] p, int n, int period) {
    if (n < period + 1) return null;
    double gain = 0;
    double loss = 0;
    for (int i = n - period; i < n; i++) {
      double change = p[i] - p[i - 1];
      gain += Math.max(change, 0);
      loss += Math.max(-change, 0);
    }
    double total = gain + loss;
    return total == 0 ? Double.valueOf(50) : finite(100 * (gain / total));
  }
}
