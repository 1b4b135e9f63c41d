/**
 * The model registry: candidates saved with their parameters, metrics and serialized forest; one active
 * version per commodity; promotions and rollbacks recorded (service history, audit row) and announced on
 * `model-updates`. Storage and announcement sit behind two ports, so the embedded mode and the cluster differ
 * only at the edges (connectors/postgres/model-store.ts implements ModelStore over SQL).
 */
import { FEATURE_NAMES } from '../features/compute-features.ts';
import { ModelUpdate, ModelUpdateAction } from '../../proto/gen/carbon/v1/model_update.ts';
import { CompactForest, CorruptForestError } from './forest/compact-forest.ts';
import { ModelReplica, type ReplicaInfo } from './model-replica.ts';

/** `candidate`: saved, not decided; `active`: in service; `retired`: served before; `rejected`: failed the rule or rolled back. */
export type ModelStatus = 'candidate' | 'active' | 'retired' | 'rejected';

/** Encoding of `models.model` written by this code. */
export const COMPACT_FOREST_FORMAT = 'compact-forest/1';

export interface NewModel {
  readonly commodity: string;
  /** JSON: how it was trained, including the serving parameters (see ServingParams). */
  readonly params: object;
  /** JSON: walk-forward metrics and the promotion decision. */
  readonly metrics: object;
  readonly format: string;
  readonly blob: Uint8Array;
  readonly horizonTicks: number;
  /** First and last tick the training rows (labels included) use; UTC epoch ms. */
  readonly trainFromMs: number;
  readonly trainToMs: number;
  readonly trainRows: number;
}

export interface ModelSummary {
  readonly version: number;
  readonly commodity: string;
  readonly status: ModelStatus;
  readonly format: string;
  readonly horizonTicks: number;
  readonly trainFromMs: number;
  readonly trainToMs: number;
  readonly trainRows: number;
  /** UTC epoch ms. */
  readonly trainedAtMs: number;
  readonly sizeBytes: number;
  readonly params: unknown;
  readonly metrics: unknown;
}

export interface StoredModel extends ModelSummary {
  readonly blob: Uint8Array;
}

/** A change of the version in service, as committed. */
export interface ModelChange {
  readonly action: 'promote' | 'rollback';
  readonly commodity: string;
  /** Version in service now. */
  readonly version: number;
  /** Version in service before (null when there was none). */
  readonly previousVersion: number | null;
  /** UTC epoch ms of the commit. */
  readonly changedAtMs: number;
}

/** Which version served a commodity when; toMs null while it still serves. */
export interface ServicePeriod {
  readonly commodity: string;
  readonly modelVersion: number;
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly reason: string;
}

export interface Actor {
  /** Who: an operator's user name, 'trainer'. Goes to the audit row. */
  readonly actor: string;
  readonly reason: string;
}

/** The registry's storage. Each change runs in one transaction with its service-history and audit rows. */
export interface ModelStore {
  insertCandidate(model: NewModel): Promise<number>;
  /** candidate -> rejected, with an audit row listing the reasons. */
  reject(version: number, by: Actor & { readonly reasons: readonly string[] }): Promise<void>;
  /**
   * Retires the active version, activates `version`, closes and opens service periods, writes the audit row.
   * With `expectedActiveVersion` (null: none), refuses when another change got there first.
   */
  promote(version: number, by: Actor & { readonly expectedActiveVersion?: number | null }): Promise<ModelChange>;
  /** Re-activates the version that served before the active one (the active one becomes rejected). */
  rollback(commodity: string, by: Actor): Promise<ModelChange>;
  list(filter?: { readonly commodity?: string; readonly limit?: number }): Promise<ModelSummary[]>;
  get(version: number): Promise<StoredModel | undefined>;
  getActive(commodity: string): Promise<StoredModel | undefined>;
  serviceHistory(commodity: string): Promise<ServicePeriod[]>;
}

/** Where promotions and rollbacks are announced (Kafka `model-updates`, or in process in the embedded mode). */
export interface ModelUpdatePublisher {
  publish(update: ModelUpdate): Promise<void>;
}

export type RegistryErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'MODEL_ALREADY_ACTIVE'
  | 'MODEL_NOT_CANDIDATE'
  | 'NO_ACTIVE_MODEL'
  | 'NO_PREVIOUS_VERSION'
  | 'ACTIVE_MODEL_CHANGED'
  | 'MODEL_CORRUPT'
  | 'MODEL_FORMAT_UNKNOWN'
  | 'MODEL_INCOMPATIBLE'
  | 'ANNOUNCE_FAILED';

const retriableCodes: ReadonlySet<RegistryErrorCode> = new Set(['ACTIVE_MODEL_CHANGED', 'ANNOUNCE_FAILED']);

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly retriable: boolean;
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retriable = retriableCodes.has(code);
  }
}

/** The part of `models.params` a replica needs to serve. */
export interface ServingParams {
  readonly featureNames: readonly string[];
  readonly interval: { readonly level: number; readonly halfWidth: number };
}

/** Turns a stored model into a replica; refuses a corrupt or incompatible one with an error naming the version. */
export function decodeReplica(model: StoredModel): ModelReplica {
  const v = model.version;
  if (model.format !== COMPACT_FOREST_FORMAT) {
    throw new RegistryError('MODEL_FORMAT_UNKNOWN', `model v${v} (${model.commodity}) has format ${JSON.stringify(model.format)}; this code reads ${COMPACT_FOREST_FORMAT}`);
  }
  let forest: CompactForest;
  try {
    forest = CompactForest.fromBuffer(model.blob);
  } catch (err) {
    const why = err instanceof CorruptForestError ? err.message : `unreadable forest: ${(err as Error).message}`;
    throw new RegistryError('MODEL_CORRUPT', `model v${v} (${model.commodity}) is refused: ${why}`, { cause: err });
  }
  const params = readServingParams(model.params);
  if (params === undefined) {
    throw new RegistryError('MODEL_INCOMPATIBLE', `model v${v} (${model.commodity}) has no featureNames and interval { level, halfWidth } in its params`);
  }
  const n = params.featureNames.length;
  const prefixOk = n === forest.nFeatures && n <= FEATURE_NAMES.length && params.featureNames.every((name, i) => name === FEATURE_NAMES[i]);
  if (!prefixOk) {
    throw new RegistryError(
      'MODEL_INCOMPATIBLE',
      `model v${v} (${model.commodity}) was trained on inputs [${params.featureNames.join(', ')}] (${forest.nFeatures} in the forest); ` +
        `this code computes [${FEATURE_NAMES.join(', ')}]`,
    );
  }
  const info: ReplicaInfo = {
    version: v,
    commodity: model.commodity,
    horizonTicks: model.horizonTicks,
    intervalHalfWidth: params.interval.halfWidth,
    intervalLevel: params.interval.level,
  };
  return new ModelReplica(info, forest);
}

export function readServingParams(params: unknown): ServingParams | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const { featureNames, interval } = params as { featureNames?: unknown; interval?: unknown };
  if (!Array.isArray(featureNames) || !featureNames.every((n) => typeof n === 'string')) return undefined;
  if (typeof interval !== 'object' || interval === null) return undefined;
  const { level, halfWidth } = interval as { level?: unknown; halfWidth?: unknown };
  if (typeof level !== 'number' || typeof halfWidth !== 'number' || !Number.isFinite(halfWidth) || halfWidth < 0) return undefined;
  return { featureNames, interval: { level, halfWidth } };
}

export type ReplicaSwap =
  | { readonly swapped: true; readonly replica: ModelReplica }
  | { readonly swapped: false; readonly replica: ModelReplica | undefined; readonly error: RegistryError };

/** The outcome of a promotion or rollback: committed, and announced unless no publisher is configured. */
export interface ChangeOutcome {
  readonly change: ModelChange;
  readonly announced: boolean;
}

export class ModelRegistry {
  constructor(
    private readonly store: ModelStore,
    private readonly publisher: ModelUpdatePublisher | undefined,
  ) {}

  saveCandidate(model: NewModel): Promise<number> {
    return this.store.insertCandidate(model);
  }

  reject(version: number, by: Actor & { readonly reasons: readonly string[] }): Promise<void> {
    return this.store.reject(version, by);
  }

  async promote(version: number, by: Actor & { readonly expectedActiveVersion?: number | null }): Promise<ChangeOutcome> {
    // Refuse to put into service what no worker could load.
    const model = await this.store.get(version);
    if (model === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
    decodeReplica(model);
    return this.announce(await this.store.promote(version, by));
  }

  async rollback(commodity: string, by: Actor): Promise<ChangeOutcome> {
    return this.announce(await this.store.rollback(commodity, by));
  }

  list(filter?: { readonly commodity?: string; readonly limit?: number }): Promise<ModelSummary[]> {
    return this.store.list(filter);
  }

  async show(version: number): Promise<StoredModel> {
    const model = await this.store.get(version);
    if (model === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
    return model;
  }

  /** The commodity's model in service, blob included; undefined when it has none. */
  activeModel(commodity: string): Promise<StoredModel | undefined> {
    return this.store.getActive(commodity);
  }

  serviceHistory(commodity: string): Promise<ServicePeriod[]> {
    return this.store.serviceHistory(commodity);
  }

  /** The replica of one version (throws RegistryError MODEL_CORRUPT and the like, naming it). */
  async loadReplica(version: number): Promise<ModelReplica> {
    return decodeReplica(await this.show(version));
  }

  /**
   * Loads `version` to replace `current`. A model that cannot serve (corrupt, unknown format, other inputs,
   * missing) leaves `current` in place and says why; any other failure (the database) is thrown.
   */
  async trySwapReplica(current: ModelReplica | undefined, version: number): Promise<ReplicaSwap> {
    try {
      return { swapped: true, replica: await this.loadReplica(version) };
    } catch (err) {
      if (err instanceof RegistryError) return { swapped: false, replica: current, error: err };
      throw err;
    }
  }

  /** The replica of the commodity's active version; undefined when it has none yet. */
  async loadActiveReplica(commodity: string): Promise<ModelReplica | undefined> {
    const model = await this.store.getActive(commodity);
    return model === undefined ? undefined : decodeReplica(model);
  }

  private async announce(change: ModelChange): Promise<ChangeOutcome> {
    if (this.publisher === undefined) return { change, announced: false };
    const update: ModelUpdate = {
      commodity: change.commodity,
      modelVersion: change.version,
      action: change.action === 'promote' ? ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED : ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK,
      changedAtMs: change.changedAtMs,
    };
    try {
      await this.publisher.publish(update);
    } catch (err) {
      throw new RegistryError(
        'ANNOUNCE_FAILED',
        `v${change.version} is in service for ${change.commodity} in the registry, but announcing it on model-updates failed ` +
          `(workers pick it up when they next load): ${(err as Error).message}`,
        { cause: err },
      );
    }
    return { change, announced: true };
  }
}
