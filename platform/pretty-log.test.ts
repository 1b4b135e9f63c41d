import test from 'ava';
import { createLogger, divertLogLines, logger } from './logger.ts';
import { prettyLine } from './pretty-log.ts';

test('a record reads as one short line: time, level, component, event in words, then key=value', (t) => {
  const line = prettyLine({ ts: '2026-12-02T02:41:07.123Z', level: 'warn', event: 'worker_exited', pid: 42, role: 'primary', slot: 1, reason: 'exit_70', restartInMs: 1000 });
  t.is(line, '02:41:07 WARN  primary/1  worker exited  reason=exit_70 restartInMs=1000\n');
});

test('strings with spaces are quoted, long values are cut, objects are compact JSON, undefined is left out', (t) => {
  const line = prettyLine({
    ts: '2026-12-02T02:41:07.123Z', level: 'info', event: 'topics_created', component: 'kafkajs',
    topics: ['a', 'b'], note: 'two words', long: 'x'.repeat(200), gone: undefined,
  });
  t.true(line.startsWith('02:41:07 INFO  kafkajs    topics created  topics=["a","b"] note="two words" long=xxx'));
  t.true(line.includes('...'));
  t.false(line.includes('gone'));
  t.true(line.length < 200);
});

test('an error shows its message and code, never its stack', (t) => {
  const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
  const lines: string[] = [];
  createLogger({ role: 'primary' }, (l) => lines.push(l), 'pretty').error('kafka_unreachable', { err });
  t.is(lines.length, 1);
  t.regex(lines[0]!, /ERROR primary +kafka unreachable {2}err="connect ECONNREFUSED 127.0.0.1:9092 \[ECONNREFUSED\]"\n$/);
  t.false(lines[0]!.includes('at '));
});

test('a custom writer gets JSON unless pretty is asked for, and children keep the format', (t) => {
  const lines: string[] = [];
  createLogger({}, (l) => lines.push(l)).child({ component: 'x' }).info('started', { n: 1 });
  t.like(JSON.parse(lines[0]!), { level: 'info', event: 'started', component: 'x', n: 1 });
  createLogger({}, (l) => lines.push(l), 'pretty').child({ component: 'x' }).info('started');
  t.regex(lines[1]!, /^\d\d:\d\d:\d\d INFO {2}x +started\n$/);
});

test('the default logger\'s lines can be diverted (a progress bar takes them) and given back', (t) => {
  const taken: string[] = [];
  const restore = divertLogLines((l) => taken.push(l));
  try {
    logger.error('diverted_line');
  } finally {
    restore();
  }
  t.is(taken.length, 1);
  t.true(taken[0]!.includes('diverted'));
});
