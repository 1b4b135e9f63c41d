import test from 'ava';
import { tenantBytesOut, tenantCalls, tenantCpuSeconds } from './metrics.ts';
import { UsageMeter } from './usage-meter.ts';

const H = 3_600_000;

test('calls are summed per hour, tenant, method and status; a new hour starts new sums', (t) => {
  let now = 10 * H + 5;
  const meter = new UsageMeter(() => now);
  meter.call('acme', 'Predict', 'OK', 100, 40);
  meter.call('acme', 'Predict', 'OK', 120, 60);
  meter.call('acme', 'Predict', 'RESOURCE_EXHAUSTED', 0, 5);
  meter.streamMessage('acme', 'StreamPredictions', 80);
  now = 11 * H;
  meter.call('acme', 'Predict', 'OK', 10, 1);
  const rows = meter.snapshot().tenants;
  t.deepEqual(rows.map((r) => [r.hourMs / H, r.method, r.code, r.calls, r.streamMessages, r.bytesOut, r.cpuUs]), [
    [10, 'Predict', 'OK', 2, 0, 220, 100],
    [10, 'Predict', 'RESOURCE_EXHAUSTED', 1, 0, 0, 5],
    [10, 'StreamPredictions', 'OK', 0, 1, 80, 0],
    [11, 'Predict', 'OK', 1, 0, 10, 1],
  ]);
});

test('written sums of past hours are forgotten, unless they moved since; the current hour is kept', (t) => {
  let now = 3 * H;
  const meter = new UsageMeter(() => now);
  meter.call('a', 'Predict', 'OK', 1, 1);
  meter.commodity('WTI', { ticks: 2, rowsStored: 6 });
  const first = meter.snapshot();
  meter.forgetWritten(first);
  t.is(meter.snapshot().tenants.length, 1, 'the current hour stays');
  now = 4 * H;
  meter.call('a', 'Predict', 'OK', 1, 1);
  const second = meter.snapshot();
  meter.commodity('WTI', { ticks: 1 });
  meter.forgetWritten(second);
  const left = meter.snapshot();
  t.deepEqual(left.tenants.map((r) => r.hourMs / H), [4], 'hour 3 was written and is over');
  t.deepEqual(left.commodities.map((r) => [r.hourMs / H, r.ticks]), [[4, 1]]);
});

test('the tenant counters get, when read, what was metered since they were last read', async (t) => {
  const meter = new UsageMeter(() => 5 * H);
  meter.call('counted', 'Predict', 'OK', 10, 2_000_000);
  meter.streamMessage('counted', 'StreamPredictions', 5);
  const calls = async () => (await tenantCalls.get()).values.filter((v) => v.labels.tenant === 'counted').reduce((s, v) => s + v.value, 0);
  t.is(await calls(), 0, 'nothing before an export');
  meter.exportCounters();
  meter.exportCounters();
  t.is(await calls(), 1, 'exported once, however often it is asked');
  t.is((await tenantCpuSeconds.get()).values.find((v) => v.labels.tenant === 'counted')?.value, 2);
  t.is((await tenantBytesOut.get()).values.find((v) => v.labels.tenant === 'counted')?.value, 15);
  meter.call('counted', 'Predict', 'OK', 0, 0);
  meter.exportCounters();
  t.is(await calls(), 2);
});
