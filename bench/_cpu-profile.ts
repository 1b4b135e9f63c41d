/**
 * Where a worker's CPU went, from the .cpuprofile files `node --cpu-prof` writes at exit: self time summed by the
 * part of the platform (or library) the sampled function belongs to, as shares of the busy time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly url: string; readonly functionName: string };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The part a sampled frame belongs to: a library by its package, the platform by its top two folders. */
function partOf({ url, functionName }: ProfileNode['callFrame']): string {
  if (url === '') return functionName === '' ? '(native)' : functionName;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(actors|supervisors|connectors|platform|proto|gateway|cli)\/([^/]+)/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

/** Self time per part over every profile in `dir`, as shares of the time not idle, largest first. */
export function cpuShares(dir: string): Array<{ part: string; share: number }> {
  const micros = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const parts = new Map(profile.nodes.map((n) => [n.id, partOf(n.callFrame)]));
    profile.samples.forEach((id, i) => {
      const part = parts.get(id) ?? '(unknown)';
      micros.set(part, (micros.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
  micros.delete('(idle)');
  const busy = [...micros.values()].reduce((a, b) => a + b, 0);
  return [...micros].map(([part, us]) => ({ part, share: us / busy })).sort((a, b) => b.share - a.share);
}
