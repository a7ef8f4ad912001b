/**
 * The store a command uses, chosen here once: its side (store-side.ts: the embedded one, or NATS over a client closed
 * when the command ends), which gives the run API (src/runs/) and who acts, as that store proves it.
 */
import type { Acting, StartingRuns } from '../runs/index.js';
import type { RunView } from '../runtime/index.js';
import { usesNats, type GlobalOpts } from './flags/store.js';
import type { StoreSide } from './store-side.js';

// Loaded here, not at the top: a command on the embedded store never loads the nats client.
export const sideFor = async (g: GlobalOpts): Promise<StoreSide> =>
  usesNats(g) ? (await import('./side-nats.js')).natsSide(g) : (await import('./store-side.js')).embeddedSide(g);

export const runsFor = async (g: GlobalOpts): Promise<StartingRuns> => (await sideFor(g)).runs();

export const actingFor = async (g: GlobalOpts, as: string | undefined): Promise<Acting> =>
  (await sideFor(g)).acting(as);

/**
 * A run as a command's `--json` prints it: each task with its progress (live while its attempt runs, else what its
 * outcome kept), as `status --json` shows it, so `run`, `start`, `resume` and `wait` print one shape.
 */
export const withTaskProgress = async (g: GlobalOpts, view: RunView): Promise<RunView> =>
  (await runsFor(g)).withProgress(view);
