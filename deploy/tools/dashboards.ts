/**
 * The Grafana dashboards of deploy/grafana/, as data: one short definition per panel, expanded here into Grafana's
 * dashboard JSON (schemaVersion 39, importable through the UI or provisioned from the ConfigMaps of deploy/k8s).
 * `build-dashboards.ts` writes the JSON files; test/deploy.test.ts fails when a committed file differs from what
 * this module makes, and when a query names a metric or label that platform/metrics.ts does not export.
 *
 * Every query goes through the `datasource` variable (any Prometheus) and filters on the `namespace` variable,
 * whose "All" value `.*` also matches series without a namespace label (a local Prometheus scraping one machine).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const grafanaDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana');

type PanelKind = 'timeseries' | 'heatmap' | 'stat';

interface TargetSpec {
  readonly expr: string;
  readonly legend: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly kind: PanelKind;
  /** Grafana unit id: 's', 'ops', 'short', 'percentunit', ... */
  readonly unit: string;
  readonly targets: readonly TargetSpec[];
  /** Half the width (12 of 24 columns) unless said otherwise. */
  readonly fullWidth?: boolean;
}

interface DashboardSpec {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** A `commodity` variable (multi-select) for the per-commodity panels. */
  readonly commodityVariable?: boolean;
  readonly panels: readonly PanelSpec[];
}

const ns = 'namespace=~"$namespace"';
const rate = (metric: string, extra = '') => `rate(${metric}{${ns}${extra}}[$__rate_interval])`;
const quantile = (q: number, histogram: string, by: readonly string[] = []) =>
  `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rate(`${histogram}_bucket`)}))`;
/**
 * A counter's increase over `window` by `by`, where a series that was absent `window` ago counts with its whole
 * value: a labelled counter's series appears with its first event, at 1, and increase() needs two samples, so the
 * first worker restart or escalation of a pod would otherwise show as 0. For rare events, where that one matters.
 */
const increaseCountingNewSeries = (metric: string, by: readonly string[], window: string) =>
  `sum by (${by.join(', ')}) ((${metric}{${ns}} unless ${metric}{${ns}} offset ${window}) or increase(${metric}{${ns}}[${window}]))`;
const latencyTargets = (histogram: string, by: readonly string[] = [], legendPrefix = ''): TargetSpec[] => [
  { expr: quantile(0.5, histogram, by), legend: `${legendPrefix}p50` },
  { expr: quantile(0.99, histogram, by), legend: `${legendPrefix}p99` },
];

export const dashboards: readonly DashboardSpec[] = [
  {
    file: 'supervision.json',
    uid: 'carbon-supervision',
    title: '254Carbon / Supervision',
    description: 'Who restarts whom: actor restarts and crashes per supervision level, recovery time, escalations and worker processes.',
    panels: [
      {
        title: 'Actor restarts by level and reason',
        description: 'Restarts decided by supervisors (carbon_actor_restarts_total).',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (level, reason) (${rate('carbon_actor_restarts_total')})`, legend: '{{level}} / {{reason}}' }],
      },
      {
        title: 'Crash rate by level',
        description: 'Actor crashes seen by the supervision layer (carbon_actor_crashes_total).',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (level) (${rate('carbon_actor_crashes_total')})`, legend: '{{level}}' }],
      },
      {
        title: 'Recovery time (crash to next tick processed)',
        description: 'Distribution of carbon_recovery_seconds, window rebuild included. Target: p99 under 10 ms.',
        kind: 'heatmap',
        unit: 's',
        targets: [{ expr: `sum by (le) (increase(carbon_recovery_seconds_bucket{${ns}}[$__rate_interval]))`, legend: '{{le}}' }],
      },
      {
        title: 'Recovery time quantiles',
        description: 'p50 and p99 of carbon_recovery_seconds.',
        kind: 'timeseries',
        unit: 's',
        targets: latencyTargets('carbon_recovery_seconds'),
      },
      {
        title: 'Active actors by kind',
        description: 'Live actors (carbon_actors_active).',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (kind) (carbon_actors_active{${ns}})`, legend: '{{kind}}' }],
      },
      {
        title: 'Mailbox depth by pod',
        description: 'Ticks dispatched to actors and not yet processed (carbon_mailbox_depth); partitions pause above CARBON_MAX_IN_FLIGHT each.',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (pod) (carbon_mailbox_depth{${ns}})`, legend: '{{pod}}' }],
      },
      {
        title: 'Worker process restarts (1 h)',
        description: 'Workers restarted by the cluster primary, by exit reason (carbon_worker_restarts_total).',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: increaseCountingNewSeries('carbon_worker_restarts_total', ['reason'], '1h'), legend: '{{reason}}' }],
      },
      {
        title: 'Escalations by level (1 h)',
        description: 'Restart intensity limits exceeded and handed to the level above (carbon_escalations_total).',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: increaseCountingNewSeries('carbon_escalations_total', ['level'], '1h'), legend: '{{level}}' }],
      },
      {
        title: 'Worker memory (RSS)',
        description: 'Resident memory of each worker process (process_resident_memory_bytes); a worker near its pod limit is the next OOM kill.',
        kind: 'timeseries',
        unit: 'bytes',
        targets: [{ expr: `max by (pod, worker) (process_resident_memory_bytes{${ns}})`, legend: '{{pod}} worker {{worker}}' }],
      },
      {
        title: 'GC pause time per second, by kind',
        description: 'Seconds per second each worker spends paused in garbage collection (nodejs_gc_duration_seconds); pauses add to every restart and every answer.',
        kind: 'timeseries',
        unit: 's',
        targets: [{ expr: `sum by (pod, worker, kind) (${rate('nodejs_gc_duration_seconds_sum')})`, legend: '{{pod}} worker {{worker}} {{kind}}' }],
      },
    ],
  },
  {
    file: 'pipeline.json',
    uid: 'carbon-pipeline',
    title: '254Carbon / Pipeline',
    description: 'Ticks from Kafka to durable features: ingest, lag, latency, dead letters, partitions and sinks.',
    panels: [
      {
        title: 'Ingest rate',
        description: 'Ticks turned into features, and messages of commodity-prices sent to its dead-letter topic instead.',
        kind: 'timeseries',
        unit: 'ops',
        targets: [
          { expr: `sum(${rate('carbon_ticks_processed_total')})`, legend: 'processed' },
          { expr: `sum(${rate('carbon_dlq_total', ', topic=~".*commodity-prices.dlq"')})`, legend: 'dead-lettered' },
        ],
      },
      {
        title: 'Ingest job: rows of its last run by outcome',
        description:
          'Rows the last successful carbon ingest run (the daily CronJob) published, rejected to the DLQ or filtered out ' +
          '(carbon_ingest_ticks_total, pushed to the Pushgateway at the end of each run: a step per run).',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `max by (outcome) (carbon_ingest_ticks_total{${ns}, job="carbon-ingest"})`, legend: '{{outcome}}' }],
      },
      {
        title: 'Consumer lag by partition',
        description: 'Messages between the high watermark and the last processed offset (carbon_consumer_lag_messages). Alert above 10,000 for 10 min.',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `max by (partition) (carbon_consumer_lag_messages{${ns}})`, legend: 'partition {{partition}}' }],
      },
      {
        title: 'Processing latency (fetch to durable)',
        description: 'carbon_tick_processing_seconds quantiles. Target: p99 under 250 ms.',
        kind: 'timeseries',
        unit: 's',
        targets: latencyTargets('carbon_tick_processing_seconds'),
      },
      {
        title: 'Dead letters by topic and reason',
        description: 'Messages sent to a .dlq topic (carbon_dlq_total). See docs/operations/dlq-poison-messages.md.',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (topic, reason) (${rate('carbon_dlq_total')})`, legend: '{{topic}} / {{reason}}' }],
      },
      {
        title: 'Throughput per partition',
        description: 'Ticks processed per second, by commodity-prices partition.',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (partition) (${rate('carbon_ticks_processed_total')})`, legend: 'partition {{partition}}' }],
      },
      {
        title: 'Partitions owned by pod',
        description: 'commodity-prices partitions assigned to the workers of each pod (carbon_partitions_owned); 12 in all.',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (pod) (carbon_partitions_owned{${ns}})`, legend: '{{pod}}' }],
      },
      {
        title: 'Sink flush latency p99 by sink',
        description: 'One batched write to Postgres, Redis or Kafka (carbon_sink_flush_seconds).',
        kind: 'timeseries',
        unit: 's',
        targets: [{ expr: quantile(0.99, 'carbon_sink_flush_seconds', ['sink']), legend: '{{sink}}' }],
      },
      {
        title: 'Anomaly alerts raised',
        description: 'Alerts published to commodity-alerts, by kind (carbon_alerts_total).',
        kind: 'timeseries',
        unit: 'ops',
        fullWidth: true,
        targets: [{ expr: `sum by (kind) (${rate('carbon_alerts_total')})`, legend: '{{kind}}' }],
      },
    ],
  },
  {
    file: 'ml.json',
    uid: 'carbon-ml',
    title: '254Carbon / ML',
    description: 'Model replicas: predictions, inference latency, versions in service, live hit rate and interval coverage, swaps.',
    commodityVariable: true,
    panels: [
      {
        title: 'Predictions per second',
        description: 'Predictions made by model replicas (carbon_predictions_total).',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum(${rate('carbon_predictions_total')})`, legend: 'predictions' }],
      },
      {
        title: 'Ticks without a prediction, by reason',
        description: 'carbon_predictions_skipped_total, one per horizon without a prediction: no_model (no champion), no_forecast (a non-positive price, a window too short).',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (reason) (${rate('carbon_predictions_skipped_total')})`, legend: '{{reason}}' }],
      },
      {
        title: 'Inference latency',
        description: 'The forecasts of one tick, every champion and challenger of the commodity (carbon_inference_seconds).',
        kind: 'timeseries',
        unit: 's',
        targets: latencyTargets('carbon_inference_seconds'),
      },
      {
        title: 'Champion in service',
        description: 'Registry version of the champion per commodity and horizon (carbon_model_version).',
        kind: 'stat',
        unit: 'none',
        targets: [{ expr: `max by (commodity, horizon) (carbon_model_version{${ns}, commodity=~"$commodity"})`, legend: '{{commodity}} h={{horizon}}' }],
      },
      {
        title: 'Live directional hit rate',
        description: 'Share of realized predictions whose direction was right, per horizon (carbon_live_hit_rate_ratio). A coin flip is 0.5; compare with the walk-forward skill of the training summary.',
        kind: 'timeseries',
        unit: 'percentunit',
        targets: [{ expr: `max by (commodity, horizon) (carbon_live_hit_rate_ratio{${ns}, commodity=~"$commodity"})`, legend: '{{commodity}} h={{horizon}}' }],
      },
      {
        title: 'Live 80 % interval coverage',
        description: 'Share of realized outcomes inside the 80 % interval, per horizon (carbon_live_interval_coverage_ratio); well calibrated near 0.8.',
        kind: 'timeseries',
        unit: 'percentunit',
        targets: [{ expr: `max by (commodity, horizon) (carbon_live_interval_coverage_ratio{${ns}, commodity=~"$commodity"})`, legend: '{{commodity}} h={{horizon}}' }],
      },
      {
        title: 'Challengers against their champion',
        description: 'A challenger\'s mean interval score over its champion\'s on the same live outcomes (carbon_shadow_interval_score_ratio): below 1 it does better; after 250 outcomes and a significant Diebold-Mariano test it is promoted.',
        kind: 'timeseries',
        unit: 'none',
        targets: [{ expr: `max by (commodity, horizon, family) (carbon_shadow_interval_score_ratio{${ns}, commodity=~"$commodity"})`, legend: '{{commodity}} h={{horizon}} {{family}}' }],
      },
      {
        title: 'Challenger promotions and retrains (1 h)',
        description: 'Challengers promoted from the shadow (carbon_shadow_promotions_total) and retrains started by a distribution shift (carbon_retrains_total), by outcome.',
        kind: 'timeseries',
        unit: 'short',
        targets: [
          { expr: `sum by (outcome) (increase(carbon_shadow_promotions_total{${ns}}[1h]))`, legend: 'promotion {{outcome}}' },
          { expr: `sum by (outcome) (increase(carbon_retrains_total{${ns}}[1h]))`, legend: 'retrain {{outcome}}' },
        ],
      },
      {
        title: 'Distribution shift (PSI)',
        description: 'Population stability index of the last 500 live ticks against the champion\'s training rows, per model input and for the outcomes (carbon_distribution_shift_psi); above 0.25 a retrain starts.',
        kind: 'timeseries',
        unit: 'none',
        fullWidth: true,
        targets: [{ expr: `max by (commodity, series) (carbon_distribution_shift_psi{${ns}, commodity=~"$commodity"})`, legend: '{{commodity}} {{series}}' }],
      },
      {
        title: 'Model swaps (1 h)',
        description: 'Forecaster sets reloaded after a promotion, a rollback or a training run (carbon_model_swaps_total).',
        kind: 'timeseries',
        unit: 'short',
        fullWidth: true,
        targets: [{ expr: `sum(increase(carbon_model_swaps_total{${ns}}[1h]))`, legend: 'swaps' }],
      },
    ],
  },
  {
    file: 'grpc.json',
    uid: 'carbon-grpc',
    title: '254Carbon / gRPC',
    description: 'The public API: calls, latency, errors by status code and answers served degraded from the online store.',
    panels: [
      {
        title: 'Calls per second by method',
        description: 'carbon_grpc_calls_total.',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [{ expr: `sum by (method) (${rate('carbon_grpc_calls_total')})`, legend: '{{method}}' }],
      },
      {
        title: 'Latency by method',
        description: 'carbon_grpc_call_seconds quantiles. Target: Predict p99 under 2 ms at 2,000 calls/s.',
        kind: 'timeseries',
        unit: 's',
        targets: latencyTargets('carbon_grpc_call_seconds', ['method'], '{{method}} '),
      },
      {
        title: 'Errors by status code',
        description: 'Calls that did not end in OK, by code and whose fault (the fault label): the client\'s (a bad request, credentials or quota, a deadline too tight, a commodity with no prediction to give) are the API answering as specified; the alert counts the server\'s only.',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [{ expr: `sum by (code, fault) (${rate('carbon_grpc_calls_total', ', code!="OK"')})`, legend: '{{code}} ({{fault}})' }],
      },
      {
        title: 'Degraded answers',
        description: 'Answers served from the online store (Redis features and the local model replica), by method and by why the owner could not answer: owner_unknown (rebalance under way), owner_silent (no answer within the budget), owner_unresponsive (not asked: it left a question unanswered and has not answered a ping since), owner_declined, owner_failed, local_failed, caller_deadline (the call\'s own deadline left the owner under 50 ms).',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [
          { expr: `sum by (method) (${rate('carbon_grpc_calls_total', ', path="degraded"')})`, legend: '{{method}}' },
          { expr: `sum by (cause) (${rate('carbon_grpc_degraded_answers_total')})`, legend: '{{cause}}' },
        ],
      },
      {
        title: 'Routing path',
        description: 'Calls answered by the local owner, forwarded to the owning worker, or degraded.',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [{ expr: `sum by (path) (${rate('carbon_grpc_calls_total')})`, legend: '{{path}}' }],
      },
      {
        title: 'Share of calls failing server-side',
        description: 'Calls whose failure was the server\'s (fault="server"): the same ratio as the CarbonGrpcErrorRate alert (fires above 5 % for 5 min).',
        kind: 'stat',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum(${rate('carbon_grpc_calls_total', ', fault="server"')}) / sum(${rate('carbon_grpc_calls_total')})`,
            legend: 'server-side errors',
          },
        ],
      },
    ],
  },
  {
    file: 'usage.json',
    uid: 'carbon-usage',
    title: '254Carbon / Usage and cost',
    description: 'What each tenant and each commodity uses, and what it costs at the price sheet (carbon_unit_price_dollars, from CARBON_PRICE_*). `carbon usage` reports the same from the hourly rollups in Postgres, storage included.',
    panels: [
      {
        title: 'Calls per second by tenant',
        description: 'carbon_tenant_calls_total, every status included (refused calls are calls too).',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [{ expr: `sum by (tenant) (${rate('carbon_tenant_calls_total')})`, legend: '{{tenant}}' }],
      },
      {
        title: 'Calls not OK by tenant and status',
        description: 'RESOURCE_EXHAUSTED: the tenant is above its quota (carbon tenants set-quota); PERMISSION_DENIED: outside its entitlements.',
        kind: 'timeseries',
        unit: 'reqps',
        targets: [{ expr: `sum by (tenant, code) (${rate('carbon_tenant_calls_total', ', code!="OK"')})`, legend: '{{tenant}} {{code}}' }],
      },
      {
        title: 'Bytes sent per second by tenant',
        description: 'Response messages as encoded (carbon_tenant_sent_bytes_total), streams included.',
        kind: 'timeseries',
        unit: 'Bps',
        targets: [{ expr: `sum by (tenant) (${rate('carbon_tenant_sent_bytes_total')})`, legend: '{{tenant}}' }],
      },
      {
        title: 'Streamed messages per second by tenant',
        description: 'Messages of StreamPredictions (carbon_tenant_stream_messages_total); 0 for tenants without streams.',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (tenant) (${rate('carbon_tenant_stream_messages_total')}) or 0 * sum by (tenant) (${rate('carbon_tenant_calls_total')})`, legend: '{{tenant}}' }],
      },
      {
        title: 'CPU of calls by tenant',
        description: 'CPU time of each tenant\'s calls on the workers that took them (carbon_tenant_cpu_seconds_total), in cores.',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (tenant) (${rate('carbon_tenant_cpu_seconds_total')})`, legend: '{{tenant}}' }],
      },
      {
        title: 'Cost per hour by tenant',
        description: 'Calls and their CPU time at the price sheet, in dollars per hour at the current rate.',
        kind: 'timeseries',
        unit: 'currencyUSD',
        targets: [
          {
            expr:
              `sum by (tenant) (${rate('carbon_tenant_calls_total')}) * 3600 / 1000 * scalar(max(carbon_unit_price_dollars{${ns}, unit="calls_1000"}))` +
              ` + sum by (tenant) (${rate('carbon_tenant_cpu_seconds_total')}) * 3600 * scalar(max(carbon_unit_price_dollars{${ns}, unit="cpu_second"}))`,
            legend: '{{tenant}}',
          },
        ],
      },
      {
        title: 'Ticks per second by commodity',
        description: 'carbon_commodity_ticks_total: ticks whose outputs were stored.',
        kind: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (commodity) (${rate('carbon_commodity_ticks_total')})`, legend: '{{commodity}}' }],
      },
      {
        title: 'Actor CPU by commodity',
        description: 'CPU time of each commodity\'s actor (carbon_commodity_actor_cpu_seconds_total), in cores.',
        kind: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (commodity) (${rate('carbon_commodity_actor_cpu_seconds_total')})`, legend: '{{commodity}}' }],
      },
      {
        title: 'Rows and bytes stored per second by commodity',
        description: 'Rows written to Postgres (ticks, features, predictions) and their bytes (carbon_commodity_rows_stored_total, carbon_commodity_stored_bytes_total).',
        kind: 'timeseries',
        unit: 'short',
        targets: [
          { expr: `sum by (commodity) (${rate('carbon_commodity_rows_stored_total')})`, legend: '{{commodity}} rows/s' },
          { expr: `sum by (commodity) (${rate('carbon_commodity_stored_bytes_total')})`, legend: '{{commodity}} bytes/s' },
        ],
      },
      {
        title: 'Compute cost per hour by commodity',
        description: 'Actor CPU at the price sheet, dollars per hour. Storage held is priced by `carbon usage` from the rollups (the counters here restart with the workers).',
        kind: 'timeseries',
        unit: 'currencyUSD',
        targets: [{ expr: `sum by (commodity) (${rate('carbon_commodity_actor_cpu_seconds_total')}) * 3600 * scalar(max(carbon_unit_price_dollars{${ns}, unit="cpu_second"}))`, legend: '{{commodity}}' }],
      },
    ],
  },
];

const datasourceRef = { type: 'prometheus', uid: '${datasource}' } as const;

function panelJson(spec: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Record<string, unknown> {
  const targets = spec.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: datasourceRef,
    expr: t.expr,
    legendFormat: t.legend,
    range: spec.kind !== 'stat',
    instant: spec.kind === 'stat',
    ...(spec.kind === 'heatmap' ? { format: 'heatmap' } : {}),
  }));
  const common = { id, type: spec.kind, title: spec.title, description: spec.description, datasource: datasourceRef, gridPos, targets };
  switch (spec.kind) {
    case 'timeseries':
      return {
        ...common,
        fieldConfig: { defaults: { unit: spec.unit, min: 0, custom: { lineWidth: 1, fillOpacity: 10, showPoints: 'never' } }, overrides: [] },
        options: {
          legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'heatmap':
      return {
        ...common,
        fieldConfig: { defaults: {}, overrides: [] },
        options: {
          calculate: false,
          cellGap: 1,
          color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange', reverse: false },
          yAxis: { axisPlacement: 'left', unit: spec.unit },
          rowsFrame: { layout: 'auto' },
          tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
          legend: { show: true },
        },
      };
    case 'stat':
      return {
        ...common,
        fieldConfig: { defaults: { unit: spec.unit, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } }, overrides: [] },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          textMode: 'value_and_name',
          colorMode: 'none',
          graphMode: 'none',
          justifyMode: 'auto',
          orientation: 'auto',
        },
      };
  }
}

function layout(panels: readonly PanelSpec[]): Record<string, unknown>[] {
  const height = 8;
  let x = 0;
  let y = 0;
  return panels.map((spec, i) => {
    const w = spec.fullWidth ? 24 : 12;
    if (x + w > 24) {
      x = 0;
      y += height;
    }
    const json = panelJson(spec, i + 1, { x, y, w, h: height });
    x += w;
    return json;
  });
}

function queryVariable(name: string, label: string, query: string, multi: boolean): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: datasourceRef,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    includeAll: true,
    allValue: '.*',
    multi,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
    regex: '',
  };
}

export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  const variables: Record<string, unknown>[] = [
    { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, options: [], hide: 0, refresh: 1, regex: '' },
    queryVariable('namespace', 'Namespace', 'label_values(carbon_partitions_owned, namespace)', false),
  ];
  if (spec.commodityVariable) variables.push(queryVariable('commodity', 'Commodity', 'label_values(carbon_model_version, commodity)', true));
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['carbon'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: dashboards
      .filter((d) => d.uid !== spec.uid)
      .map((d) => ({ title: d.title, type: 'link', url: `/d/${d.uid}`, keepTime: true, includeVars: true, targetBlank: false })),
    templating: { list: variables },
    panels: layout(spec.panels),
  };
}

/** The file contents, as written to deploy/grafana/<file>. */
export function dashboardFiles(): Map<string, string> {
  return new Map(dashboards.map((d) => [d.file, `${JSON.stringify(dashboardJson(d), null, 2)}\n`]));
}
