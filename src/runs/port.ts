/**
 * The one run API (issue 61): what every edge — the CLI, the bridge, bulk,
 * agents and the dashboard — asks of runs, on either store, with authority
 * applied inside it so that no edge can forget it. Its first verb is a
 * person's input (an approval, a signal, a pause, resume or cancel): judged
 * and recorded once here, where the CLI and the dashboard each had their own
 * copy (the dashboard's wrote to a log cut short that the CLI refused).
 */
import type { Actor } from '../authority/index.js';
import type { InputOutcome, RunInput } from '../executor/index.js';

export type { InputOutcome, RunInput };

/**
 * Who acts. `name`: the name given (`--as`, the dashboard's signed-in or named
 * person); absent, whoever the store proves (the NATS user connected as) or
 * the Runs' default person. `actor`: what a users file proved of them, judged
 * here (absent: nothing proved, nothing judged).
 */
export interface Acting {
  name?: string;
  actor?: Actor;
}

export interface Runs {
  /** Which store the runs are on: the embedded file store, or NATS JetStream. */
  readonly store: 'embedded' | 'nats';
  /**
   * A person's input, judged as the CLI judges it (a pause, resume or cancel
   * asks for L1; an approval carries the level to the approval rule, which
   * records a refusal in the run's history), on a log that is whole, and
   * recorded. Refusals throw typed errors; nothing is recorded for them.
   * `waitMs` (NATS): how long to wait for an engine's verdict.
   */
  input(runId: string, input: RunInput, as: Acting, opts?: { waitMs?: number }): Promise<InputOutcome>;
}
