/** Where a run read without its data key parted from the fold (sealed-parting.ts): a type of its own, which the view and the replay report name. */
import type { EventEnvelope } from '../events/index.js';

/** The first event whose recorded state the fold of the run's events (read without the key) does not reach. */
export interface SealedFrom {
  seq: number;
  type: EventEnvelope['type'];
  /** The task the event is of, when it is a task's. */
  task?: string;
}
