package carbon.peer;

import java.nio.ByteBuffer;

/**
 * The last SIZE ticks of a commodity (oldest first) and its running tick count: the value of the state store,
 * encoded as tickCount, n, then n pairs of (tsMs, price).
 */
final class TickWindow {
  static final int SIZE = 50;

  final long[] ts;
  final double[] prices;
  final int n;
  final long tickCount;

  private TickWindow(long[] ts, double[] prices, int n, long tickCount) {
    this.ts = ts;
    this.prices = prices;
    this.n = n;
    this.tickCount = tickCount;
  }

  static TickWindow empty() {
    return new TickWindow(new long[0], new double[0], 0, 0);
  }

  /** This window with the tick appended and the oldest dropped once SIZE is reached. */
  TickWindow append(long tsMs, double price) {
    int drop = n >= SIZE ? 1 : 0;
    int m = n - drop + 1;
    long[] t = new long[m];
    double[] p = new double[m];
    System.arraycopy(ts, drop, t, 0, n - drop);
    System.arraycopy(prices, drop, p, 0, n - drop);
    t[m - 1] = tsMs;
    p[m - 1] = price;
    return new TickWindow(t, p, m, tickCount + 1);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(12 + 16 * n);
    b.putLong(tickCount).putInt(n);
    for (int i = 0; i < n; i++) b.putLong(ts[i]).putDouble(prices[i]);
    return b.array();
  }

  static TickWindow decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    long tickCount = b.getLong();
    int n = b.getInt();
    long[] t = new long[n];
    double[] p = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = b.getLong();
      p[i] = b.getDouble();
    }
    return new TickWindow(t, p, n, tickCount);
  }
}
