/**
 * A commodity's shadow-scoring state and distribution-shift monitor, kept outside its actor (beside its ledger)
 * for the same reason as the ledger: an actor restart drops the actor's state, not what the outcomes of the
 * ticks it already committed did to the scores. The actor replaces the state only after a tick is committed.
 */
import { ShiftMonitor, type InputDeciles } from '../forecast/distribution-shift.ts';
import { emptyShadowState, seededShadowState, type ShadowScore, type ShadowState } from './shadow-scoring.ts';

export class ShadowBook {
  state: ShadowState = emptyShadowState;
  /** False until the scores were read back from the store (the commodity's first rebuild on this worker). */
  seeded = false;
  private monitor: { readonly version: number; readonly shift: ShiftMonitor } | undefined;

  seed(stored: readonly ShadowScore[]): void {
    this.state = seededShadowState(stored);
    this.seeded = true;
  }

  /** The monitor against the training rows of champion `version` (a new champion starts a new window). */
  monitorFor(version: number, deciles: InputDeciles): ShiftMonitor {
    if (this.monitor?.version !== version) this.monitor = { version, shift: new ShiftMonitor(deciles) };
    return this.monitor.shift;
  }
}
