/** Where a replay, or a rehearsal under another definition, breaks: its own file so replay and migration share it without a loop. */
import type { RecordedState } from '../events/index.js';

export interface Divergence {
  seq: number;
  type: string;
  reason: string;
  recorded?: RecordedState;
  computed?: RecordedState;
}
