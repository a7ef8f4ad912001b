/**
 * The dashboard on the embedded store: a run nobody drives says so on its page, as `status` says it
 * (runtime/driver-waits.ts, service/driven.ts). The dashboard's own Service drives every run nobody else does; one it
 * tried and could not drive (its handlers or definition cannot be loaded: it tries again later) says why, since no
 * other process will take it.
 */
import { markUndriven, needsDriver, type RunView } from '../runtime/index.js';
import { runDriver, type Service } from '../service/index.js';

export function undrivenMarks(
  storeDir: string,
  service: Pick<Service, 'driveFailure'>,
): (view: RunView) => Promise<RunView> {
  return async (view) => {
    if (!needsDriver(view)) return view;
    const driver = await runDriver(storeDir, view.runId);
    if (driver === null) return markUndriven(view);
    // Held by the store's serve (this one or another) but not by the run's lease: this Service's failure, if it failed.
    const failure = driver.by === 'serve' ? service.driveFailure(view.runId) : undefined;
    if (failure === undefined) return view;
    return markUndriven(view, `this dashboard could not drive this run (it tries again every few seconds): ${failure}`);
  };
}
