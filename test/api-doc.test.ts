/**
 * docs/api.md against the code it describes, so that it cannot drift:
 * - every service, RPC, message, enum, field and enum value of proto/carbon/v1/*.proto has its section or row,
 *   with the same field numbers, types and RPC types, and the page names none that proto/ does not have;
 * - the error table is gateway/errors.ts's catalogue (code, status, retriable);
 * - every topic, DLQ header and content type of connectors/kafka/, and every ingest reject reason, is named;
 * - every setting the gateway reads is in the connection table.
 */
import test from 'ava';
import { status } from '@grpc/grpc-js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tickRejectReasons } from '../actors/commodity/decode-tick.ts';
import { pastTickReasons } from '../actors/commodity/past-ticks.ts';
import { modelUpdateRejectReasons } from '../actors/model/decode-model-update.ts';
import { rejectReasons } from '../actors/ingest/validate.ts';
import { dlqHeaders } from '../connectors/kafka/dlq.ts';
import { allTopicNames, contentTypes, topicNames } from '../connectors/kafka/topics.ts';
import { variablesReadBy } from '../deploy/tools/env-variables.ts';
import { statusOfCode } from '../gateway/errors.ts';

const root = join(import.meta.dirname, '..');
const doc = readFileSync(join(root, 'docs', 'api.md'), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// proto/: a reader of the subset of proto3 the project uses (top-level messages, enums and services).

/** One row per member: a field (number, type as written), an enum value (number) or an RPC (request, response). */
type Members = Map<string, string>;
interface Definitions {
  readonly messages: Map<string, Members>;
  readonly enums: Map<string, Members>;
  readonly services: Map<string, Members>;
}

function readProto(): Definitions {
  const defs: Definitions = { messages: new Map(), enums: new Map(), services: new Map() };
  const dir = join(root, 'proto', 'carbon', 'v1');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.proto')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8').replace(/\/\/.*$/gm, '');
    const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(text)?.[1];
    if (pkg === undefined) throw new Error(`${file}: no package`);
    for (const block of text.matchAll(/\b(message|enum|service)\s+(\w+)\s*\{([^{}]*)\}/g)) {
      const [, kind, name, body = ''] = block;
      const members: Members = new Map();
      if (kind === 'message') {
        for (const f of body.matchAll(/^\s*((?:optional|repeated)\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;/gm)) members.set(f[3] as string, `${f[4]} ${(f[1] ?? '').trim()} ${f[2]}`.replace(/\s+/g, ' '));
      } else if (kind === 'enum') {
        for (const v of body.matchAll(/^\s*(\w+)\s*=\s*(\d+)\s*;/gm)) members.set(v[1] as string, v[2] as string);
      } else {
        for (const r of body.matchAll(/\brpc\s+(\w+)\s*\(\s*(stream\s+)?([\w.]+)\s*\)\s*returns\s*\(\s*(stream\s+)?([\w.]+)\s*\)/g)) {
          members.set(r[1] as string, `${r[2] ? 'stream ' : ''}${r[3]} -> ${r[4] ? 'stream ' : ''}${r[5]}`);
        }
      }
      const target = kind === 'message' ? defs.messages : kind === 'enum' ? defs.enums : defs.services;
      target.set(`${pkg}.${name}`, members);
    }
  }
  return defs;
}

// ---------------------------------------------------------------------------------------------------------------
// docs/api.md: sections `### message|enum|service <full name>`, each with a table whose first column names the
// member in backticks.

function cells(line: string): string[] {
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

const unquote = (c: string) => c.replace(/^`|`$/g, '');
/** `X` or stream `X`, as proto writes it: X or stream X. */
const streamType = (c: string) => (c.startsWith('stream ') ? `stream ${unquote(c.slice(7).trim())}` : unquote(c));

function readDoc(): Definitions {
  const defs: Definitions = { messages: new Map(), enums: new Map(), services: new Map() };
  const sections = doc.split(/^### /m).slice(1);
  for (const section of sections) {
    const [heading = '', ...lines] = section.split('\n');
    const m = /^(message|enum|service) ([\w.]+)$/.exec(heading.trim());
    if (!m) continue;
    const [, kind, name = ''] = m;
    const members: Members = new Map();
    for (const line of lines) {
      if (line.startsWith('## ')) break;
      const row = cells(line);
      if (!line.startsWith('| `') || row.length < 3) continue;
      const member = unquote(row[0] as string);
      if (kind === 'message') members.set(member, `${row[1]} ${row[2]}`);
      else if (kind === 'enum') members.set(member, row[1] as string);
      else members.set(member, `${streamType(row[1] as string)} -> ${streamType(row[2] as string)}`);
    }
    const target = kind === 'message' ? defs.messages : kind === 'enum' ? defs.enums : defs.services;
    if (target.has(name)) throw new Error(`docs/api.md: ${kind} ${name} has two sections`);
    target.set(name, members);
  }
  return defs;
}

/** Differences between what proto/ defines and what the page says, as readable lines. */
function differences(proto: Definitions, page: Definitions): string[] {
  const out: string[] = [];
  for (const kind of ['services', 'messages', 'enums'] as const) {
    const noun = kind.slice(0, -1);
    for (const [name, members] of proto[kind]) {
      const documented = page[kind].get(name);
      if (!documented) {
        out.push(`${noun} ${name} is not documented (### ${noun} ${name})`);
        continue;
      }
      for (const [member, shape] of members) {
        const got = documented.get(member);
        if (got === undefined) out.push(`${noun} ${name}: ${member} is not documented`);
        else if (got !== shape) out.push(`${noun} ${name}: ${member} is "${shape}" in proto/ but "${got}" in the doc`);
      }
      for (const member of documented.keys()) if (!members.has(member)) out.push(`${noun} ${name}: the doc names ${member}, which proto/ does not define`);
    }
    for (const name of page[kind].keys()) if (!proto[kind].has(name)) out.push(`the doc has ${noun} ${name}, which proto/ does not define`);
  }
  return out;
}

test('every service, RPC, message, enum, field and value of proto/ is documented as defined, and nothing else', (t) => {
  const proto = readProto();
  t.true(proto.messages.size >= 20 && proto.services.size === 2 && proto.enums.size >= 6, 'the proto reader finds the definitions');
  t.deepEqual(differences(proto, readDoc()), []);
});

test('the comparison catches a missing field, a wrong number, an invented RPC and an undocumented message', (t) => {
  const proto = readProto();
  const page = readDoc();
  const predict = new Map(page.messages.get('carbon.v1.PredictRequest'));
  predict.delete('accept_stale');
  predict.set('horizon_ticks', '9 optional int32');
  const service = new Map(page.services.get('carbon.v1.PredictionService'));
  service.set('PredictAll', 'PredictRequest -> PredictResponse');
  const messages = new Map(page.messages);
  messages.set('carbon.v1.PredictRequest', predict);
  messages.delete('carbon.v1.Freshness');
  const broken: Definitions = { ...page, messages, services: new Map([...page.services, ['carbon.v1.PredictionService', service]]) };
  t.deepEqual(differences(proto, broken).sort(), [
    'message carbon.v1.Freshness is not documented (### message carbon.v1.Freshness)',
    'message carbon.v1.PredictRequest: accept_stale is not documented',
    'message carbon.v1.PredictRequest: horizon_ticks is "2 optional int32" in proto/ but "9 optional int32" in the doc',
    'service carbon.v1.PredictionService: the doc names PredictAll, which proto/ does not define',
  ]);
});

test('the error table is the gateway\'s catalogue: each code with its status, whether it is retriable and whose fault it is', (t) => {
  const section = doc.slice(doc.indexOf('\n## Errors'), doc.indexOf('\n## ', doc.indexOf('\n## Errors') + 1));
  const rows = section.split('\n').filter((l) => l.startsWith('| `')).map(cells);
  const documented = Object.fromEntries(rows.map((r) => [unquote(r[0] as string), { status: unquote(r[1] as string), retriable: r[2], fault: r[3] }]));
  const catalogue = Object.fromEntries(Object.entries(statusOfCode).map(([code, m]) => [code, { status: status[m.status], retriable: String(m.retriable), fault: m.fault }]));
  t.deepEqual(documented, catalogue);
});

test('every topic, DLQ header, content type and dead-letter reason (ingest, workers, model updates) is named', (t) => {
  const named = (s: string) => doc.includes(`\`${s}\``);
  const missing = [
    ...allTopicNames(topicNames('')),
    ...Object.values(dlqHeaders),
    ...Object.values(contentTypes),
    ...rejectReasons,
    ...tickRejectReasons,
    ...pastTickReasons,
    ...modelUpdateRejectReasons,
    'poison',
  ].filter((s) => !named(s));
  t.deepEqual(missing, []);
});

test('every setting the gateway reads is in the connection table', (t) => {
  const section = doc.slice(doc.indexOf('\n## Connecting'), doc.indexOf('\n## ', doc.indexOf('\n## Connecting') + 1));
  const inTable = new Set([...section.matchAll(/`(CARBON_[A-Z0-9_]+)`/g)].map((m) => m[1]));
  const readBy = (file: string) => variablesReadBy(readFileSync(join(root, file), 'utf8')).filter((v) => v.startsWith('CARBON_') && v !== 'CARBON_WORKER_SLOT');
  const gateway = readBy('gateway/gateway-config.ts');
  const platform = readBy('platform/config.ts');
  t.deepEqual(gateway.filter((v) => !inTable.has(v)), [], 'every gateway setting');
  t.deepEqual([...inTable].filter((v) => !gateway.includes(v as string) && !platform.includes(v as string)), [], 'the table names only settings that exist');
});
