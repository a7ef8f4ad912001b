/**
 * Child runs, the attempts engines run themselves rather than hand to workers: a SUB_WORKFLOW attempt (or a MAP item
 * run as a workflow) starts a child run, and a failed run its failure workflow. Started once (the child's run id is
 * fixed by the parent's attempt), cancelled when the parent's attempt is no longer wanted, and its outcome published to
 * the parent as the attempt's, from the `engine` sender with the attempt's token. An EMIT attempt's outcome goes the
 * same way (trigger-events.ts).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { instanceFields, instanceToken, iso } from '../../compiler/index.js';
import { errorMessage } from '../../errors/index.js';
import {
  cancelChildRun,
  childOutcome,
  detachedEffect,
  detachedOutput,
  startChildRun,
  type ChildOutcome,
  type ChildRef,
} from '../../executor/index.js';
import type { RunSource, TaskError } from '../../events/index.js';
import { runView, toTaskError, type StartAttempt, type StartChild } from '../../runtime/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import {
  reportDigest,
  encode,
  ENGINE_SENDER,
  subjects,
  type AttemptTokens,
  type DefinitionRegistry,
  type InputMessage,
  type Custody,
} from '../transport/index.js';
import type { Loaded, RunHost } from './run-host.js';

export interface ChildRunsOptions {
  store: JetStreamEventStore;
  js: JetStreamClient;
  host: RunHost;
  registry: DefinitionRegistry;
  tokens: AttemptTokens;
  stats: { childRuns: number };
  now: () => number;
  log: (line: string) => void;
}

export class ChildRuns {
  constructor(private readonly o: ChildRunsOptions) {}

  /**
   * Starts a child run like a trigger start, among the deployed definitions, once (its run id is fixed): one that exists
   * is not started again, and if settled its outcome is published to the parent again. What keeps it from starting
   * (not deployed, bad input, too deep) fails the attempt.
   */
  async start(effect: StartChild, custody: Custody | null): Promise<void> {
    const { registry, host } = this.o;
    const outcome = await startChildRun(
      {
        commits: host.starter(),
        // How many runs are above the child: its parent's depth (0 for a top-level run) + 1.
        depth: async () => {
          const parent = await this.parentOf(effect.parent.runId);
          return (parent ? (parent.depth ?? 1) : 0) + 1;
        },
        find: async () => {
          try {
            return {
              definition: await registry
                .resolve(`${effect.workflow}@${effect.version ?? 1}`)
                .catch(() => registry.resolve(effect.workflow)),
            };
          } catch (err) {
            return {
              code: 'LF_SUBWORKFLOW_NOT_FOUND',
              retryable: false,
              message: `workflow ${effect.workflow} is not deployed (${errorMessage(err)})`,
            } satisfies TaskError;
          }
        },
        onStarted: () => {
          this.o.stats.childRuns++;
        },
        // Its derived id, or its spare one when a run that is not this child holds that (executor/child-owner.ts). A
        // settled child tells its parent itself (reportToParent); the engines run one that goes on.
        run: async (id) => {
          const after = await host.withRun(id, () =>
            host.process(id, [], { commitKey: 'child', reconcile: true, custody }),
          );
          // `wait: false`: the attempt completes now, with the child's run id; the child reports nothing back.
          if (effect.detach) return { kind: 'completed', output: detachedOutput(effect, id) };
          if (after && after.snapshot.status !== 'active') await this.reportToParent(id, after);
          return { kind: 'waiting' };
        },
      },
      effect.detach ? detachedEffect(effect) : effect,
    );
    await this.reportOutcome(effect.parent, effect.childRunId, outcome);
  }

  /** The run that started `runId`, from its run.started (undefined: a top-level run). */
  private async parentOf(runId: string): Promise<RunSource['parent']> {
    const first = (await this.o.store.read(runId, { fromSeq: 1, toSeq: 1 }))[0];
    return first?.type === 'run.started' ? first.data.source?.parent : undefined;
  }

  /** A settled child's outcome, published to its parent as the SUB_WORKFLOW attempt's (nothing for a failure workflow or a top-level run). */
  async reportToParent(runId: string, run: Loaded): Promise<void> {
    if (run.parent === null) return;
    const parent = run.parent ?? (await this.parentOf(runId));
    if (!parent?.task) return;
    const outcome = childOutcome(runView(run.snapshot, run.seq), run.compiled.definition.id);
    if (outcome) await this.reportOutcome(parent, runId, outcome);
  }

  /** The attempt's outcome as an input from `engine`, with the attempt's token, once per child (message id). */
  async reportOutcome(parent: StartChild['parent'], childId: string, outcome: ChildOutcome): Promise<void> {
    if (!parent.task || !parent.attempt || outcome.kind === 'waiting') return;
    const { runId, task, attempt } = parent;
    const instance = instanceFields(parent);
    const token = this.o.tokens.tokenFor(runId, instanceToken({ task, ...instance }), attempt);
    const time = iso(this.o.now());
    const msg: InputMessage =
      outcome.kind === 'completed'
        ? {
            type: 'task.completed',
            runId,
            time,
            token,
            data: { task, attempt, ...instance, output: outcome.output ?? null },
          }
        : { type: 'task.failed', runId, time, token, data: { task, attempt, ...instance, error: outcome.error } };
    // The token's digest in the id: a worker could write `<childId>/outcome` ahead of a predictable child (attempt-tokens.ts).
    await this.o.js.publish(subjects.input(ENGINE_SENDER, runId), encode(msg), {
      msgID: `${childId}/${reportDigest(token)}/outcome`,
    });
  }

  /**
   * An attempt the engine performs itself (a built-in failure step, a TRANSFORM), not awaited by the commit that asked
   * for it; its outcome reported as the attempt's under `reportId`. An engine that dies before it reports leaves the
   * attempt to the next engine's reconcile, which performs it again.
   */
  perform(effect: StartAttempt, reportId: string, what: string, work: () => Promise<unknown>): Promise<void> {
    void (async () => {
      let outcome: ChildOutcome;
      try {
        outcome = { kind: 'completed', output: (await work()) ?? null };
      } catch (err) {
        outcome = { kind: 'failed', error: toTaskError(err) };
      }
      const { runId, workflowId, taskId: task, attempt } = effect;
      await this.reportOutcome({ runId, workflowId, task, ...instanceFields(effect), attempt }, reportId, outcome);
    })().catch((err: unknown) =>
      this.o.log(
        `run ${effect.runId}: ${what} could not report: ${errorMessage(err)} (the next engine's reconcile performs it again)`,
      ),
    );
    return Promise.resolve();
  }

  /**
   * Cancels a child run whose parent attempt is no longer wanted (nothing when it never started or has settled), under
   * its derived id or its spare one: never a run of someone else's that took the derived id.
   */
  async cancel(child: ChildRef, reason: string, custody: Custody | null): Promise<void> {
    const { host } = this.o;
    const cancel = (id: string, by: string) =>
      host.withRun(id, () =>
        host.process(
          id,
          [
            {
              type: 'run.cancelled',
              time: iso(this.o.now()),
              data: { by, reason: `its parent's attempt ended: ${reason}` },
            },
          ],
          { commitKey: 'cancel', custody },
        ),
      );
    await cancelChildRun(this.o.store, child, cancel).catch((err: unknown) =>
      this.o.log(`run ${child.parent.runId}: could not cancel child run ${child.childRunId}: ${errorMessage(err)}`),
    );
  }
}
