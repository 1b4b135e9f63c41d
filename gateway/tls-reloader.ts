/**
 * The TLS certificate, key and client CA, reloaded when their files change (a mounted Secret is updated in
 * place): the files are re-read every `intervalMs` (Kubernetes swaps a Secret volume's files through a symlink,
 * which file-change events miss; three small files a few seconds apart cost nothing), and a new set is handed to
 * the listeners only once it forms a valid pair (a key that does not match its certificate, or a file caught
 * half-written, keeps the previous set and is retried at the next read). Listeners apply it to new connections
 * only; open connections keep the session they negotiated.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../platform/logger.ts';
import { tlsReloads } from '../platform/metrics.ts';

export interface TlsMaterial {
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  /** The CA client certificates must chain to (mutual TLS); undefined without. */
  readonly caPem: Buffer | undefined;
}

export interface TlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string | undefined;
}

/** What one read of the files found. */
export type ReloadOutcome = 'unchanged' | 'reloaded' | 'rejected';

const same = (a: TlsMaterial, b: TlsMaterial) =>
  a.certPem.equals(b.certPem) && a.keyPem.equals(b.keyPem) && (a.caPem === undefined ? b.caPem === undefined : b.caPem !== undefined && a.caPem.equals(b.caPem));

export class TlsReloader {
  private material: TlsMaterial;
  private readonly listeners: ((m: TlsMaterial) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<ReloadOutcome> | undefined;

  constructor(private readonly files: TlsFiles, initial: TlsMaterial, private readonly log: Logger) {
    this.material = initial;
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** `listener` gets every new valid set, in order. */
  onChange(listener: (m: TlsMaterial) => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the files every `intervalMs` (0: never) until stop(). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) => this.log.error('tls_reload_failed', { err }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files once; a read already running is shared. */
  check(): Promise<ReloadOutcome> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<ReloadOutcome> {
    let next: TlsMaterial;
    try {
      const [certPem, keyPem, caPem] = await Promise.all([
        readFile(this.files.certPath),
        readFile(this.files.keyPath),
        this.files.caPath === undefined ? Promise.resolve(undefined) : readFile(this.files.caPath),
      ]);
      next = { certPem, keyPem, caPem };
    } catch (err) {
      return this.rejected('unreadable', err);
    }
    if (same(next, this.material)) return 'unchanged';
    try {
      // Throws when the key does not match the certificate or a PEM does not parse.
      createSecureContext({ cert: next.certPem, key: next.keyPem, ...(next.caPem === undefined ? {} : { ca: next.caPem }) });
    } catch (err) {
      return this.rejected('invalid', err);
    }
    this.material = next;
    for (const listener of this.listeners) listener(next);
    tlsReloads.inc({ outcome: 'reloaded' });
    this.log.info('tls_reloaded', { cert: this.files.certPath, ca: this.files.caPath });
    return 'reloaded';
  }

  private rejected(reason: string, err: unknown): ReloadOutcome {
    tlsReloads.inc({ outcome: 'rejected' });
    this.log.warn('tls_reload_rejected', { reason, err, cert: this.files.certPath, key: this.files.keyPath, ca: this.files.caPath });
    return 'rejected';
  }
}
