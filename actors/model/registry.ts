/**
 * The model registry: every forecaster a training run fits is saved with its parameters, metrics and forest;
 * per commodity and horizon one version is in service (the champion) and the other families' latest versions
 * forecast in the shadow. Promotions, rollbacks and shadow changes are recorded (service history, audit row) and
 * announced on `model-updates`. Storage and announcement sit behind two ports, so the embedded mode and the
 * cluster differ only at the edges (model-store.ts implements ModelStore over SqlStore).
 */
import { ModelUpdate, ModelUpdateAction } from '../../proto/gen/carbon/v1/model_update.ts';
import { Forecaster } from '../forecast/forecaster.ts';
import { CompactForest, CorruptForestError } from './forest/compact-forest.ts';
import { readForecasterSpec } from './forecaster-spec.ts';

/**
 * `candidate`: saved, not decided; `active`: the champion in service; `shadow`: a challenger forecasting beside
 * it; `retired`: served or shadowed before; `rejected`: could not be served, or rolled back.
 */
export type ModelStatus = 'candidate' | 'active' | 'shadow' | 'retired' | 'rejected';

/** Encoding of `models.model` written by this code: the forest of a forest family (empty for the baselines). */
export const FORECASTER_FORMAT = 'forecaster/1';

export interface NewModel {
  readonly commodity: string;
  readonly family: string;
  /** JSON: how it was trained, including the forecaster's spec (see StoredParams in the training job). */
  readonly params: object;
  /** JSON: walk-forward metrics and the champion decision. */
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
  readonly family: string;
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

/** A change of the version in service for one commodity and horizon, as committed. */
export interface ModelChange {
  readonly action: 'promote' | 'rollback';
  readonly commodity: string;
  readonly horizonTicks: number;
  /** Version in service now. */
  readonly version: number;
  /** Version in service before (null when there was none). */
  readonly previousVersion: number | null;
  /** UTC epoch ms of the commit. */
  readonly changedAtMs: number;
}

/** Which version served a commodity's horizon when; toMs null while it still serves. */
export interface ServicePeriod {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly modelVersion: number;
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly reason: string;
}

export interface Actor {
  /** Who: an operator's user name, 'trainer', 'shadow-scoring'. Goes to the audit row. */
  readonly actor: string;
  readonly reason: string;
  /** Numbers behind the decision, for the audit row. */
  readonly evidence?: object;
}

export interface PromoteBy extends Actor {
  /** With it (null: none), the promotion is refused when another change got there first. */
  readonly expectedActiveVersion?: number | null;
  /** What the champion it replaces becomes: 'retired' (a training run) or 'shadow' (a challenger took over). */
  readonly previousBecomes?: 'retired' | 'shadow';
}

/** The registry's storage. Each change runs in one transaction with its service-history and audit rows. */
export interface ModelStore {
  insertCandidate(model: NewModel): Promise<number>;
  /** candidate -> rejected, with an audit row listing the reasons. */
  reject(version: number, by: Actor & { readonly reasons: readonly string[] }): Promise<void>;
  /** candidate -> shadow; the shadow of the same family, commodity and horizon before it is retired. */
  shadow(version: number, by: Actor): Promise<void>;
  /** Activates `version` in its commodity and horizon; the one it replaces is retired or shadowed; audited. */
  promote(version: number, by: PromoteBy): Promise<ModelChange>;
  /** Re-activates the version that served the horizon before the active one (which becomes rejected). */
  rollback(commodity: string, horizonTicks: number, by: Actor): Promise<ModelChange>;
  list(filter?: { readonly commodity?: string; readonly limit?: number }): Promise<ModelSummary[]>;
  get(version: number): Promise<StoredModel | undefined>;
  /** Every active and shadow model of the commodity (all horizons), blobs included. */
  serving(commodity: string): Promise<StoredModel[]>;
  serviceHistory(commodity: string): Promise<ServicePeriod[]>;
}

/** Where changes are announced (Kafka `model-updates`, or in process in the embedded mode). */
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

/** A forecaster ready to serve, with the registry facts the actor and the gateway report. */
export interface ServedForecaster {
  readonly version: number;
  readonly commodity: string;
  readonly status: 'active' | 'shadow';
  readonly trainedAtMs: number;
  readonly forecaster: Forecaster;
}

/** Turns a stored model into a forecaster; refuses a corrupt or incompatible one with an error naming the version. */
export function decodeForecaster(model: StoredModel): Forecaster {
  const v = model.version;
  const name = `model v${v} (${model.commodity}, ${model.family}, ${model.horizonTicks} tick(s))`;
  if (model.format !== FORECASTER_FORMAT) {
    throw new RegistryError('MODEL_FORMAT_UNKNOWN', `${name} has format ${JSON.stringify(model.format)}; this code reads ${FORECASTER_FORMAT} (retrain it: carbon train)`);
  }
  const spec = readForecasterSpec(model.params);
  if (typeof spec === 'string') throw new RegistryError('MODEL_INCOMPATIBLE', `${name} cannot serve: ${spec}`);
  if (spec.horizonTicks !== model.horizonTicks || spec.family !== model.family) {
    throw new RegistryError('MODEL_INCOMPATIBLE', `${name} holds the spec of a ${spec.family} forecaster of ${spec.horizonTicks} tick(s)`);
  }
  let forest: CompactForest | undefined;
  if (model.blob.length > 0) {
    try {
      forest = CompactForest.fromBuffer(model.blob);
    } catch (err) {
      const why = err instanceof CorruptForestError ? err.message : `unreadable forest: ${(err as Error).message}`;
      throw new RegistryError('MODEL_CORRUPT', `${name} is refused: ${why}`, { cause: err });
    }
  }
  try {
    return new Forecaster(spec, forest);
  } catch (err) {
    throw new RegistryError('MODEL_INCOMPATIBLE', `${name} cannot serve: ${(err as Error).message}`, { cause: err });
  }
}

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

  /** Puts a candidate in the shadow (not announced: the run's announcement of its champion reloads the commodity). */
  async shadow(version: number, by: Actor): Promise<void> {
    decodeForecaster(await this.show(version));
    await this.store.shadow(version, by);
  }

  async promote(version: number, by: PromoteBy): Promise<ChangeOutcome> {
    // Refuse to put into service what no worker could load.
    decodeForecaster(await this.show(version));
    return this.announce(await this.store.promote(version, by));
  }

  async rollback(commodity: string, horizonTicks: number, by: Actor): Promise<ChangeOutcome> {
    return this.announce(await this.store.rollback(commodity, horizonTicks, by));
  }

  list(filter?: { readonly commodity?: string; readonly limit?: number }): Promise<ModelSummary[]> {
    return this.store.list(filter);
  }

  async show(version: number): Promise<StoredModel> {
    const model = await this.store.get(version);
    if (model === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
    return model;
  }

  serviceHistory(commodity: string): Promise<ServicePeriod[]> {
    return this.store.serviceHistory(commodity);
  }

  /**
   * The commodity's champions and shadows that can serve, and the errors of those that cannot (a corrupt or
   * incompatible model is reported, never thrown: the others serve). Any other failure (the database) is thrown.
   */
  async loadServing(commodity: string): Promise<{ served: ServedForecaster[]; refused: RegistryError[] }> {
    const served: ServedForecaster[] = [];
    const refused: RegistryError[] = [];
    for (const m of await this.store.serving(commodity)) {
      try {
        served.push({ version: m.version, commodity, status: m.status as 'active' | 'shadow', trainedAtMs: m.trainedAtMs, forecaster: decodeForecaster(m) });
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        refused.push(err);
      }
    }
    return { served, refused };
  }

  /** Tells the workers that a commodity's models changed (a training run's new shadows). */
  async announceChallengers(commodity: string, horizonTicks: number, version: number): Promise<boolean> {
    if (this.publisher === undefined) return false;
    await this.publish({ commodity, modelVersion: version, action: ModelUpdateAction.MODEL_UPDATE_ACTION_CHALLENGERS_CHANGED, changedAtMs: Date.now(), horizonTicks }, `announcing the challengers of ${commodity}`);
    return true;
  }

  private async announce(change: ModelChange): Promise<ChangeOutcome> {
    if (this.publisher === undefined) return { change, announced: false };
    const update: ModelUpdate = {
      commodity: change.commodity,
      modelVersion: change.version,
      action: change.action === 'promote' ? ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED : ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK,
      changedAtMs: change.changedAtMs,
      horizonTicks: change.horizonTicks,
    };
    await this.publish(update, `v${change.version} is in service for ${change.commodity} (${change.horizonTicks} tick(s)) in the registry, but announcing it`);
    return { change, announced: true };
  }

  private async publish(update: ModelUpdate, what: string): Promise<void> {
    try {
      await this.publisher!.publish(update);
    } catch (err) {
      throw new RegistryError('ANNOUNCE_FAILED', `${what} on model-updates failed (workers pick it up when they next load): ${(err as Error).message}`, { cause: err });
    }
  }
}
