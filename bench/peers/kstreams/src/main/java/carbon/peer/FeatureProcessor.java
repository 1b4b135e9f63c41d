package carbon.peer;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * One tick: its commodity's window from the state store, the tick appended and stored back, the features computed,
 * tick and features handed to the stream thread's Postgres batch, and an alert forwarded when |z| > 4 (the
 * platform's default threshold).
 */
final class FeatureProcessor implements Processor<String, byte[], String, byte[]> {
  static final String WINDOWS = "windows";
  private static final double Z_SCORE_THRESHOLD = 4;

  private final Supplier<PostgresBatcher> threadBatcher;
  private final Duration flushInterval;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, byte[]> windows;
  private PostgresBatcher batcher;

  FeatureProcessor(Supplier<PostgresBatcher> threadBatcher, Duration flushInterval) {
    this.threadBatcher = threadBatcher;
    this.flushInterval = flushInterval;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.windows = context.getStateStore(WINDOWS);
    this.batcher = threadBatcher.get();
    context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, now -> flush());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    PriceTickWire tick = PriceTickWire.decode(record.value());
    byte[] stored = windows.get(tick.commodity);
    TickWindow window = (stored == null ? TickWindow.empty() : TickWindow.decode(stored)).append(tick.tsMs, tick.price);
    windows.put(tick.commodity, window.encode());
    Features f = new Features(window);
    try {
      batcher.add(tick, f);
    } catch (SQLException e) {
      throw new IllegalStateException("peer: Postgres batch failed", e);
    }
    if (f.zScore != null && Math.abs(f.zScore) > Z_SCORE_THRESHOLD) {
      String alert = "{\"commodity\":\"" + tick.commodity + "\",\"tsMs\":" + tick.tsMs + ",\"zScore\":" + f.zScore + "}";
      context.forward(record.withKey(tick.commodity).withValue(alert.getBytes(StandardCharsets.UTF_8)));
    }
  }

  private void flush() {
    try {
      batcher.flush();
    } catch (SQLException e) {
      throw new IllegalStateException("peer: Postgres batch failed", e);
    }
  }
}
