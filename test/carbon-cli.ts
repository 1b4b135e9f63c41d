/** The `carbon` command as an operator runs it, in a child process, for the integration tests. */
import { execFile } from 'node:child_process';

const bin = new URL('../cli/bin.js', import.meta.url).pathname;

export interface CarbonRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `carbon <args>` with the test's environment over this one (logs at warn); resolves with its exit status and output. */
export function runCarbon(args: readonly string[], env: Record<string, string>): Promise<CarbonRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, CARBON_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}
