import test from 'ava';
import { GatewayError } from './errors.ts';
import { modelsQuery, predictQuery, streamQuery } from './requests.ts';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== 'INVALID_ARGUMENT') throw err;
    return err.message.split(':')[0];
  }
}

test('bad commodity ids are INVALID_ARGUMENT naming the field', (t) => {
  for (const bad of ['', 'wti', '1WTI', 'W TI', 'A'.repeat(33), 'WTI;DROP', '\u0000']) {
    t.is(fieldOf(() => predictQuery({ commodity: bad, acceptStale: false })), 'commodity', JSON.stringify(bad));
  }
  t.deepEqual(predictQuery({ commodity: 'HENRY_HUB', acceptStale: true }), { commodity: 'HENRY_HUB', horizonTicks: undefined, acceptStale: true });
});

test('a horizon out of 1..365 is INVALID_ARGUMENT naming horizon_ticks', (t) => {
  for (const h of [0, -1, 366, 2 ** 31 - 1]) t.is(fieldOf(() => predictQuery({ commodity: 'WTI', horizonTicks: h, acceptStale: false })), 'horizon_ticks');
  t.is(predictQuery({ commodity: 'WTI', horizonTicks: 5, acceptStale: false }).horizonTicks, 5);
});

test('stream commodities are checked one by one and deduplicated', (t) => {
  t.is(fieldOf(() => streamQuery({ commodities: ['WTI', 'bad'] })), 'commodities[1]');
  t.deepEqual(streamQuery({ commodities: ['WTI', 'WTI', 'BRENT'] }), ['WTI', 'BRENT']);
  t.is(fieldOf(() => streamQuery({ commodities: Array.from({ length: 300 }, () => 'WTI') })), 'commodities');
});

test('list limits default to 100 and stay within 1000', (t) => {
  t.deepEqual(modelsQuery({ commodity: '', limit: 0 }), { commodity: undefined, limit: 100 });
  t.is(fieldOf(() => modelsQuery({ commodity: '', limit: 1_001 })), 'limit');
  t.is(fieldOf(() => modelsQuery({ commodity: '', limit: -1 })), 'limit');
});
