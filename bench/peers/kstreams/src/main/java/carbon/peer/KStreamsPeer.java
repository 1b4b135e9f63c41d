package carbon.peer;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of `bench pipeline`: PriceTicks from PEER_INPUT_TOPIC, the platform's features from a
 * state store of the last 50 prices per commodity, ticks and features upserted into Postgres in batches, alerts
 * to PEER_ALERTS_TOPIC, exactly_once_v2, PEER_THREADS stream threads. Says "state RUNNING" on stdout when it is
 * processing, so that the bench knows when to publish.
 */
public final class KStreamsPeer {
  private KStreamsPeer() {}

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("peer: " + name + " is not set");
    return v;
  }

  public static void main(String[] args) throws SQLException, InterruptedException {
    String jdbcUrl = env("PEER_JDBC_URL");
    int batchRows = Integer.parseInt(env("PEER_BATCH_ROWS"));
    Duration flushInterval = Duration.ofMillis(Long.parseLong(env("PEER_FLUSH_MS")));
    PostgresBatcher.createTables(jdbcUrl);

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, env("PEER_APPLICATION_ID"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("PEER_BOOTSTRAP"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(env("PEER_THREADS")));
    p.put(StreamsConfig.STATE_DIR_CONFIG, env("PEER_STATE_DIR"));
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    // One Postgres batch per stream thread, shared by the thread's tasks, so that a batch spans partitions.
    ThreadLocal<PostgresBatcher> batchers = ThreadLocal.withInitial(() -> {
      try {
        return new PostgresBatcher(jdbcUrl, batchRows);
      } catch (SQLException e) {
        throw new IllegalStateException("peer: cannot connect to Postgres", e);
      }
    });
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FeatureProcessor.WINDOWS), Serdes.String(), Serdes.ByteArray()).withCachingEnabled());
    builder.stream(env("PEER_INPUT_TOPIC"), Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .process(() -> new FeatureProcessor(batchers::get, flushInterval), FeatureProcessor.WINDOWS)
        .to(env("PEER_ALERTS_TOPIC"), Produced.with(Serdes.String(), Serdes.ByteArray()));

    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      System.out.println("state " + now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) stopped.countDown();
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.out.println("failed " + e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(10))));
    streams.start();
    stopped.await();
  }
}
