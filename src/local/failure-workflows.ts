/**
 * A failed run's failure workflows as in-process attempts drive them: each started once (by its child run id) and
 * driven here, stopped (not cancelled) when the driver stops. Apart from in-process-attempts.ts, which counts them
 * as its side work while they run.
 */
import { errorMessage } from '../errors/index.js';
import { AttemptControl } from '../executor/index.js';
import type { StartChild } from '../runtime/index.js';
import type { DriverOptions } from './driver-options.js';

export class FailureWorkflows {
  /** Failure workflows started (by child run id) and how many are still being driven. */
  private readonly failureChildren = new Set<string>();
  /** The failure workflows being driven here: stopped (not cancelled) when this driver stops. */
  private readonly failureControls = new Set<AttemptControl>();

  constructor(private readonly opts: DriverOptions) {}

  /** Starts `effect`'s failure workflow unless it was: `began` once it is, `ended` once it ends, whatever its outcome. */
  start(effect: StartChild, began: () => void, ended: () => void): void {
    if (this.failureChildren.has(effect.childRunId) || !this.opts.children) return;
    this.failureChildren.add(effect.childRunId);
    began();
    const control = new AttemptControl(0, 0, { task: 'failure_workflow' });
    this.failureControls.add(control);
    const say = (why: string) =>
      this.opts.onLog?.('failure_workflow', `failure workflow ${effect.workflow} (run ${effect.childRunId}) ${why}`);
    void this.opts.children
      .startChild(effect, {
        get signal() {
          return control.signal;
        },
        cancelled: () => false,
      })
      .then((outcome) => {
        if (outcome.kind === 'failed') say(`did not complete: ${outcome.error.message}`);
      })
      .catch((err: unknown) => say(`could not run: ${errorMessage(err)}`))
      .finally(() => {
        this.failureControls.delete(control);
        ended();
      });
  }

  /** This process stops: every failure workflow driven here is aborted. */
  stopAll(): void {
    for (const f of this.failureControls) f.abort(new Error('the engine stopped'));
  }
}
