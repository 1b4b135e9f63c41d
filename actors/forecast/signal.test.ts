import test from 'ava';
import { tradingSignal } from './signal.ts';

test('no signal without significant walk-forward directional skill, whatever the probability', (t) => {
  t.is(tradingSignal({ pesaranTimmermannP: 0.3 }, 0.9).signal, 'NEUTRAL');
  t.regex(tradingSignal({ pesaranTimmermannP: 0.3 }, 0.9).reason, /no significant directional skill/);
  t.is(tradingSignal({ pesaranTimmermannP: null }, 0.1).signal, 'NEUTRAL');
});

test('with skill: LONG and SHORT only where the probability stands clear of a coin flip', (t) => {
  t.is(tradingSignal({ pesaranTimmermannP: 0.01 }, 0.56).signal, 'LONG');
  t.is(tradingSignal({ pesaranTimmermannP: 0.01 }, 0.44).signal, 'SHORT');
  t.is(tradingSignal({ pesaranTimmermannP: 0.01 }, 0.52).signal, 'NEUTRAL');
});
