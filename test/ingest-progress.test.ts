import test from 'ava';
import { createLogger, type LogFields } from '../platform/logger.ts';
import { createProgress } from '../platform/progress.ts';

function capture(): { lines: LogFields[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogFields[] = [];
  return { lines, logger: createLogger({}, (line) => lines.push(JSON.parse(line) as LogFields)) };
}

test('off a terminal, progress ends with one JSON line holding the count, total and the caller\'s fields', (t) => {
  const { lines, logger } = capture();
  const progress = createProgress({ label: 'ingest', unit: 'rows', total: 10, interactive: false, logger });
  progress.add(4);
  progress.add(6);
  progress.stop({ published: 9 });
  progress.stop({ published: 9 });
  t.is(lines.length, 1);
  t.like(lines[0], { event: 'progress_done', label: 'ingest', unit: 'rows', count: 10, total: 10, published: 9 });
});

test('an unknown total is left out rather than guessed', (t) => {
  const { lines, logger } = capture();
  const progress = createProgress({ label: 'train', interactive: false, logger });
  progress.add(3);
  progress.stop();
  t.false('total' in (lines[0] ?? {}));
  t.false('etaS' in (lines[0] ?? {}));
  t.is(lines[0]?.count, 3);
});
