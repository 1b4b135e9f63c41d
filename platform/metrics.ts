/**
 * The metric catalogue: every metric the platform exports, in one place, on prom-client's default registry
 * (the cluster primary aggregates the workers' registries with AggregatorRegistry). Names follow Prometheus
 * conventions: base units, `_total` for counters, `_seconds` for durations.
 */
import client from 'prom-client';

const { Counter, Gauge, Histogram } = client;

/** Sub-millisecond to a few seconds: actor work, inference, gRPC calls. */
export const latencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// Supervision
export const actorRestarts = new Counter({
  name: 'carbon_actor_restarts_total',
  help: 'Restarts decided by a supervisor, by supervision level and crash reason',
  labelNames: ['level', 'reason'] as const,
});
export const actorCrashes = new Counter({
  name: 'carbon_actor_crashes_total',
  help: 'Actor crashes seen by the supervision layer, by level',
  labelNames: ['level'] as const,
});
export const escalations = new Counter({
  name: 'carbon_escalations_total',
  help: 'Restart intensity limits exceeded, escalated to the level above, by the level that gave up',
  labelNames: ['level'] as const,
});
export const actorsActive = new Gauge({
  name: 'carbon_actors_active',
  help: 'Live actors, by kind',
  labelNames: ['kind'] as const,
});
export const mailboxDepth = new Gauge({
  name: 'carbon_mailbox_depth',
  help: 'Messages dispatched to actors and not yet processed (in-flight ticks), summed over the partitions of a worker',
});
export const recoverySeconds = new Histogram({
  name: 'carbon_recovery_seconds',
  help: 'Time from an actor crash to the next tick it processed (window rebuild included)',
  buckets: latencyBuckets,
});
export const workerRestarts = new Counter({
  name: 'carbon_worker_restarts_total',
  help: 'Worker processes restarted by the cluster primary, by exit reason',
  labelNames: ['reason'] as const,
});

// Pipeline
export const ticksProcessed = new Counter({
  name: 'carbon_ticks_processed_total',
  help: 'Ticks turned into features by commodity actors, by partition of the prices topic',
  labelNames: ['partition'] as const,
});
export const tickProcessingSeconds = new Histogram({
  name: 'carbon_tick_processing_seconds',
  help: 'Time from a tick being fetched from Kafka to its commit: outputs in the stores, messages and offset committed',
  buckets: latencyBuckets,
});
export const partitionsOwned = new Gauge({
  name: 'carbon_partitions_owned',
  help: 'Kafka partitions of commodity-prices assigned to this worker',
});
export const consumerLag = new Gauge({
  name: 'carbon_consumer_lag_messages',
  help: 'Messages between the high watermark and the committed offset, per partition this worker owns',
  labelNames: ['partition'] as const,
});
export const dlqTotal = new Counter({
  name: 'carbon_dlq_total',
  help: 'Messages sent to a dead-letter topic, by topic and reason',
  labelNames: ['topic', 'reason'] as const,
});
export const ticksSkipped = new Counter({
  name: 'carbon_ticks_skipped_total',
  help: 'Ticks that produced no output because the actor had already processed them, by reason',
  labelNames: ['reason'] as const,
});
export const ingestTotal = new Counter({
  name: 'carbon_ingest_ticks_total',
  help: 'Rows read by carbon ingest, by outcome (published or rejected)',
  labelNames: ['outcome'] as const,
});
export const alertsTotal = new Counter({
  name: 'carbon_alerts_total',
  help: 'Anomaly alerts raised, by kind',
  labelNames: ['kind'] as const,
});
export const dependencyFailures = new Counter({
  name: 'carbon_dependency_failures_total',
  help: 'Failed writes, commits and partition openings against a dependency (postgres, online-store, kafka), each retried with backoff',
  labelNames: ['dependency'] as const,
});
export const dependencyWaiting = new Gauge({
  name: 'carbon_dependency_waiting',
  help: 'Whether the pipeline is waiting for a dependency to answer again (1) or not (0), per dependency',
  labelNames: ['dependency'] as const,
  aggregator: 'max',
});
export const partitionsLost = new Counter({
  name: 'carbon_partitions_lost_total',
  help: 'Assignments that ended with their uncommitted work dropped, unpublished, by reason (fenced: another worker owns the partition now; commit_failed: the broker refused or was gone; hand_off_timeout)',
  labelNames: ['reason'] as const,
});
export const handOffSeconds = new Histogram({
  name: 'carbon_hand_off_seconds',
  help: 'Duration of the hand-off of a revoked partition (stop taking, drain, flush, commit, release)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});
export const sinkFlushSeconds = new Histogram({
  name: 'carbon_sink_flush_seconds',
  help: 'Duration of one batched write to an output store, by sink',
  labelNames: ['sink'] as const,
  buckets: latencyBuckets,
});

// ML
export const predictionsTotal = new Counter({
  name: 'carbon_predictions_total',
  help: 'Predictions made by champions (one per served horizon and tick), per commodity',
  labelNames: ['commodity'] as const,
});
export const predictionsSkipped = new Counter({
  name: 'carbon_predictions_skipped_total',
  help: 'Ticks that got no prediction at a horizon, per commodity and reason (no_model: no champion; no_forecast: a non-positive price or a window too short for the forecaster)',
  labelNames: ['commodity', 'reason'] as const,
});
export const inferenceSeconds = new Histogram({
  name: 'carbon_inference_seconds',
  help: 'Time of the forecasts of one tick (every champion and challenger of the commodity)',
  buckets: [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001, 0.01],
});
export const modelVersion = new Gauge({
  name: 'carbon_model_version',
  help: 'Champion version in service, per commodity and horizon (ticks)',
  labelNames: ['commodity', 'horizon'] as const,
  // Only the owner sets it; summing over workers would add stale copies during a partition move.
  aggregator: 'max',
});
export const modelTrainedTimestamp = new Gauge({
  name: 'carbon_model_trained_timestamp_seconds',
  help: 'When the champion in service was trained, per commodity and horizon (UTC, Unix seconds)',
  labelNames: ['commodity', 'horizon'] as const,
  aggregator: 'max',
});
export const modelSwaps = new Counter({
  name: 'carbon_model_swaps_total',
  help: 'Forecaster sets of a commodity reloaded after a promotion, rollback or training run',
});
export const liveHitRate = new Gauge({
  name: 'carbon_live_hit_rate_ratio',
  help: 'Share of realized predictions whose direction was right, per commodity and horizon (ticks)',
  labelNames: ['commodity', 'horizon'] as const,
});
export const liveCoverage = new Gauge({
  name: 'carbon_live_interval_coverage_ratio',
  help: 'Share of realized outcomes inside the 80 % prediction interval, per commodity and horizon (ticks)',
  labelNames: ['commodity', 'horizon'] as const,
});
export const shadowIntervalScoreRatio = new Gauge({
  name: 'carbon_shadow_interval_score_ratio',
  help: 'A challenger\'s mean interval score over its champion\'s on the same live outcomes (below 1: the challenger does better), per commodity, horizon and family',
  labelNames: ['commodity', 'horizon', 'family'] as const,
  aggregator: 'max',
});
export const shadowOutcomes = new Gauge({
  name: 'carbon_shadow_outcomes',
  help: 'Live outcomes a challenger has been scored on against its current champion, per commodity, horizon and family',
  labelNames: ['commodity', 'horizon', 'family'] as const,
  aggregator: 'max',
});
export const shadowPromotions = new Counter({
  name: 'carbon_shadow_promotions_total',
  help: 'Challengers promoted because they beat their champion in the shadow, by outcome (promoted, refused)',
  labelNames: ['outcome'] as const,
});
export const distributionShift = new Gauge({
  name: 'carbon_distribution_shift_psi',
  help: 'Population stability index of the last 500 live ticks against the champion\'s training rows, per commodity and series (each model input, and outcomes: where they fell among the quantiles)',
  labelNames: ['commodity', 'series'] as const,
  aggregator: 'max',
});
export const retrains = new Counter({
  name: 'carbon_retrains_total',
  help: 'Retrains of one commodity started by the workers (a distribution shift alarm), by outcome (done, failed, skipped: within the cooldown)',
  labelNames: ['outcome'] as const,
});

// gRPC
export const grpcCalls = new Counter({
  name: 'carbon_grpc_calls_total',
  help: 'gRPC calls of the public server, by method, the status code they ended with, routing path (local, forwarded, degraded, none) and whose fault a failure was (none, client, server)',
  labelNames: ['method', 'code', 'path', 'fault'] as const,
});
export const degradedAnswers = new Counter({
  name: 'carbon_grpc_degraded_answers_total',
  help: 'Answers served degraded (online store and local model replica), by why the owner could not answer (owner_unknown, local_failed, owner_silent, owner_unresponsive, owner_declined, owner_failed, caller_deadline)',
  labelNames: ['cause'] as const,
});
export const tlsReloads = new Counter({
  name: 'carbon_tls_reloads_total',
  help: 'Reads of rotated TLS files (certificate, key, client CA), by outcome: reloaded (new connections get them), rejected (unreadable or not a valid pair: the previous ones stay)',
  labelNames: ['outcome'] as const,
});
export const tenantReloads = new Counter({
  name: 'carbon_tenant_reloads_total',
  help: 'Reloads of the tenants and their tokens from the database, by outcome (loaded, failed: the previous tenants stay)',
  labelNames: ['outcome'] as const,
});
export const quotaLeases = new Counter({
  name: 'carbon_quota_leases_total',
  help: "Asks of a worker for a share of a tenant's cluster-wide quota (Redis), by outcome: granted, refused (the tenant is at its quota), failed (Redis unavailable: the worker's own bucket decides)",
  labelNames: ['outcome'] as const,
});
export const grpcSeconds = new Histogram({
  name: 'carbon_grpc_call_seconds',
  help: 'gRPC call duration, by method',
  labelNames: ['method'] as const,
  buckets: latencyBuckets,
});

// Usage and cost (platform/usage-meter.ts): per tenant and per commodity, priced by carbon_unit_price_dollars.
// The tenant counters are brought up to date when they are read, from the meter's sums: a call only adds to those.
let bringUsageUpToDate: (() => void) | undefined;
/** The usage meter's hook: called before the tenant counters are read. */
export function onUsageRead(update: () => void): void {
  bringUsageUpToDate = update;
}
const usageCollect = { collect: () => bringUsageUpToDate?.() };
export const tenantCalls = new Counter({
  ...usageCollect,
  name: 'carbon_tenant_calls_total',
  help: 'gRPC calls of a tenant, by method and status code (refused ones included)',
  labelNames: ['tenant', 'method', 'code'] as const,
});
export const tenantStreamMessages = new Counter({
  ...usageCollect,
  name: 'carbon_tenant_stream_messages_total',
  help: 'Messages sent to a tenant on server streams, by method',
  labelNames: ['tenant', 'method'] as const,
});
export const tenantBytesOut = new Counter({
  ...usageCollect,
  name: 'carbon_tenant_sent_bytes_total',
  help: 'Bytes of response messages sent to a tenant (serialized protobuf, before gRPC framing and compression)',
  labelNames: ['tenant'] as const,
});
export const tenantCpuSeconds = new Counter({
  ...usageCollect,
  name: 'carbon_tenant_cpu_seconds_total',
  help: "CPU time of a tenant's calls on the worker that took them: authentication, handler and encoding (the time a call waits on an actor or a peer is not its own)",
  labelNames: ['tenant'] as const,
});
export const commodityTicks = new Counter({
  name: 'carbon_commodity_ticks_total',
  help: 'Ticks processed by the commodity actors, per commodity',
  labelNames: ['commodity'] as const,
});
export const commodityActorCpuSeconds = new Counter({
  name: 'carbon_commodity_actor_cpu_seconds_total',
  help: "CPU time of a commodity's actor handling its messages (features, forecasts, alerts)",
  labelNames: ['commodity'] as const,
});
export const commodityRowsStored = new Counter({
  name: 'carbon_commodity_rows_stored_total',
  help: 'Rows written to Postgres for a commodity (ticks, features, predictions)',
  labelNames: ['commodity'] as const,
});
export const commodityStoredBytes = new Counter({
  name: 'carbon_commodity_stored_bytes_total',
  help: 'Bytes of the rows written to Postgres for a commodity (their values as sent, an estimate of what they hold on disk)',
  labelNames: ['commodity'] as const,
});
export const commodityTrainingCpuSeconds = new Counter({
  name: 'carbon_commodity_training_cpu_seconds_total',
  help: 'CPU time spent training and evaluating the models of a commodity (carbon train)',
  labelNames: ['commodity'] as const,
});
export const unitPrice = new Gauge({
  name: 'carbon_unit_price_dollars',
  help: 'The price sheet (CARBON_PRICE_*), per unit: calls_1000 (a thousand calls), cpu_second, gb_month (a gigabyte stored for a month)',
  labelNames: ['unit'] as const,
  aggregator: 'max',
});

// Series that exist from the start at 0, so that their first event shows in rate() and increase() (a series that
// appears with its first event starts at 1, and Prometheus sees no increase).
for (const level of ['commodity', 'partition', 'root'] as const) {
  actorCrashes.inc({ level }, 0);
  escalations.inc({ level }, 0);
  // Reasons are open-ended (an error's code or class); the plain error's stands for them at 0.
  actorRestarts.inc({ level, reason: 'Error' }, 0);
}
alertsTotal.inc({ kind: 'return_zscore' }, 0);
for (const outcome of ['promoted', 'refused'] as const) shadowPromotions.inc({ outcome }, 0);
for (const outcome of ['done', 'failed', 'skipped'] as const) retrains.inc({ outcome }, 0);

export const registry = client.register;

/**
 * The process's own series (resident memory, heap spaces, GC pauses by kind, event-loop lag), for the processes
 * that do the work: memory and pauses are what decide a worker's tail latency. Once per process.
 */
let collectingProcessMetrics = false;

export function collectProcessMetrics(): void {
  if (collectingProcessMetrics) return;
  collectingProcessMetrics = true;
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // Gauges named like counters (promtool refuses them), and of no use here beside the series kept.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
