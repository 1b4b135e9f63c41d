package carbon.peer;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * One stream thread's rows for Postgres: ticks and features gathered across its tasks and written in one
 * transaction of two multi-row upserts through unnest(), as the platform's sink does, when maxRows are waiting
 * or when a punctuation asks. Upserts, so that a batch replayed after an aborted Kafka transaction is harmless.
 * The connection lives as long as its stream thread, that is, the process.
 */
final class PostgresBatcher {
  private static final String TICKS_UPSERT =
      "INSERT INTO peer_ticks (commodity, ts_ms, price, unit, source) "
          + "SELECT * FROM unnest(?::text[], ?::bigint[], ?::float8[], ?::text[], ?::text[]) "
          + "ON CONFLICT (commodity, ts_ms) DO NOTHING";
  private static final String[] FEATURE_COLUMNS = {
    "ts_ms", "price", "simple_return", "log_return", "non_positive_price", "sma_5", "sma_20", "ema_5", "ema_20",
    "volatility_20", "ewma_volatility", "z_score", "rsi_14", "momentum_10", "window_min", "window_max", "tick_count",
  };
  private static final String[] FEATURE_TYPES = {
    "bigint", "float8", "float8", "float8", "bool", "float8", "float8", "float8", "float8",
    "float8", "float8", "float8", "float8", "float8", "float8", "float8", "bigint",
  };
  private static final String FEATURES_UPSERT = featuresUpsert();

  private final Connection connection;
  private final int maxRows;
  private final List<PriceTickWire> ticks = new ArrayList<>();
  private final List<Features> features = new ArrayList<>();

  PostgresBatcher(String jdbcUrl, int maxRows) throws SQLException {
    this.connection = DriverManager.getConnection(jdbcUrl);
    this.connection.setAutoCommit(false);
    this.maxRows = maxRows;
  }

  /** The peer's tables, shaped as the platform's (the bench runs the peer in the platform's database). */
  static void createTables(String jdbcUrl) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl); var s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS peer_ticks (LIKE ticks INCLUDING ALL)");
      s.execute("CREATE TABLE IF NOT EXISTS peer_features (LIKE features INCLUDING ALL)");
    }
  }

  private static String featuresUpsert() {
    StringBuilder casts = new StringBuilder("?::text[]");
    StringBuilder updates = new StringBuilder();
    for (int i = 0; i < FEATURE_COLUMNS.length; i++) {
      casts.append(", ?::").append(FEATURE_TYPES[i]).append("[]");
      if (i > 0) updates.append(i > 1 ? ", " : "").append(FEATURE_COLUMNS[i]).append(" = EXCLUDED.").append(FEATURE_COLUMNS[i]);
    }
    return "INSERT INTO peer_features (commodity, " + String.join(", ", FEATURE_COLUMNS) + ") SELECT * FROM unnest("
        + casts + ") ON CONFLICT (commodity, ts_ms) DO UPDATE SET " + updates;
  }

  void add(PriceTickWire tick, Features f) throws SQLException {
    ticks.add(tick);
    features.add(f);
    if (ticks.size() >= maxRows) flush();
  }

  void flush() throws SQLException {
    if (ticks.isEmpty()) return;
    int n = ticks.size();
    try (PreparedStatement t = connection.prepareStatement(TICKS_UPSERT);
        PreparedStatement f = connection.prepareStatement(FEATURES_UPSERT)) {
      String[] commodities = new String[n];
      Long[] ts = new Long[n];
      Double[] prices = new Double[n];
      String[] units = new String[n];
      String[] sources = new String[n];
      for (int i = 0; i < n; i++) {
        PriceTickWire x = ticks.get(i);
        commodities[i] = x.commodity;
        ts[i] = x.tsMs;
        prices[i] = x.price;
        units[i] = x.unit;
        sources[i] = x.source;
      }
      t.setArray(1, array("text", commodities));
      t.setArray(2, array("int8", ts));
      t.setArray(3, array("float8", prices));
      t.setArray(4, array("text", units));
      t.setArray(5, array("text", sources));
      t.executeUpdate();
      f.setArray(1, array("text", commodities));
      Object[][] columns = featureColumns();
      for (int c = 0; c < columns.length; c++) f.setArray(c + 2, array(sqlArrayType(FEATURE_TYPES[c]), columns[c]));
      f.executeUpdate();
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    }
    ticks.clear();
    features.clear();
  }

  private Object[][] featureColumns() {
    int n = features.size();
    Long[] tsMs = new Long[n];
    Double[] price = new Double[n], simple = new Double[n], log = new Double[n], sma5 = new Double[n], sma20 = new Double[n];
    Double[] ema5 = new Double[n], ema20 = new Double[n], vol = new Double[n], ewma = new Double[n], z = new Double[n];
    Double[] rsi = new Double[n], momentum = new Double[n], lo = new Double[n], hi = new Double[n];
    Boolean[] nonPositive = new Boolean[n];
    Long[] count = new Long[n];
    for (int i = 0; i < n; i++) {
      Features x = features.get(i);
      tsMs[i] = x.tsMs;
      price[i] = x.price;
      simple[i] = x.simpleReturn;
      log[i] = x.logReturn;
      nonPositive[i] = x.nonPositivePrice;
      sma5[i] = x.sma5;
      sma20[i] = x.sma20;
      ema5[i] = x.ema5;
      ema20[i] = x.ema20;
      vol[i] = x.volatility20;
      ewma[i] = x.ewmaVolatility;
      z[i] = x.zScore;
      rsi[i] = x.rsi14;
      momentum[i] = x.momentum10;
      lo[i] = x.windowMin;
      hi[i] = x.windowMax;
      count[i] = x.tickCount;
    }
    // In FEATURE_COLUMNS order.
    return new Object[][] {tsMs, price, simple, log, nonPositive, sma5, sma20, ema5, ema20, vol, ewma, z, rsi, momentum, lo, hi, count};
  }

  private static String sqlArrayType(String castType) {
    return switch (castType) {
      case "bigint" -> "int8";
      case "bool" -> "bool";
      default -> castType;
    };
  }

  private Array array(String type, Object[] values) throws SQLException {
    return connection.createArrayOf(type, values);
  }
}
