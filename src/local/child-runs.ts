/**
 * Child runs on an EventStore driven in this process (the embedded store's executor for `child.start`): a SUB_WORKFLOW
 * attempt's child, or a failed run's failure workflow. The child is started once under its deterministic run id, driven
 * here on the same store with the same handlers, and its outcome becomes the parent attempt's. Finding a child's
 * definition and emitting events are I/O: the edge (src/api, src/cli) passes them in.
 */
import type { Definition } from '../definition/index.js';
import { RunBusyError } from '../errors/index.js';
import {
  cancelChildRun,
  childOutcome,
  detachedEffect,
  detachedOutput,
  startChildRun,
  type ChildOutcome,
  type ChildRef,
  type RunCommits,
} from '../executor/index.js';
import type { ChildControl, ChildExecutor } from './driver-options.js';
import {
  type EmitEvent,
  type StartChild,
  type Handlers,
  handlersForStartedRun,
  type RunView,
} from '../runtime/index.js';

/** Which definition a `workflow:` names, seen from the parent's definition file. */
export interface ChildDefinitionRef {
  workflow: string;
  version?: number;
  parentFile?: string;
}
/** A definition found for a child run, with its file and handlers (when it names a module of its own). */
export interface ResolvedChild {
  definition: Definition;
  file?: string;
  handlersPath?: string;
  handlers?: Handlers;
}
/** Finds a child's definition (beside the parent's file, or by a relative path), or null when there is none. */
export type ChildResolver = (ref: ChildDefinitionRef) => ResolvedChild | null | Promise<ResolvedChild | null>;
/** What an EMIT does on this store: admits the event and starts (and drives) the runs its triggers name; returns the attempt's output. */
export type EventEmitter = (
  effect: EmitEvent,
  ctx: { parentFile?: string; handlers: Handlers; depth: number; signal: AbortSignal },
) => Promise<unknown>;

/** The part of the Engine a child executor uses. */
export interface ChildEngine {
  /** Where the child's start is written, as every executor writes it (executor/child-runs.ts). */
  commits: RunCommits;
  drive(
    runId: string,
    opts: { handlers: Handlers; maxTimerWaitMs?: number; signal: AbortSignal; depth: number },
  ): Promise<RunView>;
  cancel(runId: string, opts: { by?: string; reason?: string }): Promise<unknown>;
}

export interface ChildRunsOptions {
  engine: ChildEngine;
  resolveChild?: ChildResolver;
  emitEvent?: EventEmitter;
  handlers: Handlers;
  /** The parent's definition file (its run.started `source.file`), where children are looked for. */
  parentFile?: string;
  /** How many parents the run driven has (0: a top-level run). */
  depth: number;
  maxTimerWaitMs?: number;
}

export class ChildRuns implements ChildExecutor {
  constructor(private readonly opts: ChildRunsOptions) {}

  async startChild(effect: StartChild, control: ChildControl): Promise<ChildOutcome> {
    const { engine } = this.opts;
    // Asked with the attempt already withdrawn (or withdrawn while driven): only the cancellation of a child that exists is wanted.
    const withdrawn = async (): Promise<ChildOutcome> => {
      if (control.cancelled())
        await this.cancel(
          effect,
          control.signal.reason instanceof Error
            ? control.signal.reason.message
            : String(control.signal.reason ?? 'no longer wanted'),
        );
      return { kind: 'waiting' };
    };
    if (control.signal.aborted) return withdrawn();
    const depth = this.opts.depth + 1;
    // Found whether or not the child has started: a definition of its own may name handlers it is driven with.
    // The built-in failure steps' run carries its definition (executor/child-runs.ts takes it): nothing to look up.
    const resolved = effect.definition
      ? null
      : ((await this.opts.resolveChild?.({
          workflow: effect.workflow,
          ...(effect.version !== undefined ? { version: effect.version } : {}),
          ...(this.opts.parentFile ? { parentFile: this.opts.parentFile } : {}),
        })) ?? null);
    const handlers = handlersForStartedRun(this.opts.handlers, resolved?.handlers);
    const where = this.opts.parentFile ? ` beside ${this.opts.parentFile}` : '';
    return startChildRun(
      {
        commits: engine.commits,
        depth: () => depth,
        handlers,
        find: async () =>
          resolved
            ? {
                definition: resolved.definition,
                source: {
                  ...(resolved.file ? { file: resolved.file } : {}),
                  ...(resolved.handlersPath ? { handlers: resolved.handlersPath } : {}),
                },
              }
            : {
                code: 'LF_SUBWORKFLOW_NOT_FOUND',
                retryable: false,
                message: `no definition of workflow ${effect.workflow}${where}; put its file in the same folder or name it by a relative path in \`workflow:\``,
              },
        run: async (id) => {
          // `wait: false`: the attempt completes now; the child is driven here as side work, by itself (no signal of the attempt's).
          if (effect.detach) {
            control.detached?.began();
            void engine
              .drive(id, {
                handlers,
                depth,
                signal: new AbortController().signal,
                ...(this.opts.maxTimerWaitMs !== undefined ? { maxTimerWaitMs: this.opts.maxTimerWaitMs } : {}),
              })
              .catch(() => undefined)
              .finally(() => control.detached?.ended());
            return { kind: 'completed', output: detachedOutput(effect, id) };
          }
          // Withdrawn while the child was being started (its parent's attempt timed out meanwhile): cancelled, not driven.
          if (control.signal.aborted) return withdrawn();
          let view: RunView;
          try {
            view = await engine.drive(id, {
              handlers,
              signal: control.signal,
              depth,
              ...(this.opts.maxTimerWaitMs !== undefined ? { maxTimerWaitMs: this.opts.maxTimerWaitMs } : {}),
            });
          } catch (err) {
            // Another process drives the child: it reports when it settles, or a resume asks again.
            if (err instanceof RunBusyError) return { kind: 'waiting' };
            throw err;
          }
          if (control.signal.aborted) return withdrawn();
          return childOutcome(view, effect.workflow) ?? { kind: 'waiting' };
        },
      },
      effect.detach ? detachedEffect(effect) : effect,
    );
  }

  /** Cancels `child` wherever it started (executor/child-runs.ts: never a run that is not it): its parent's attempt ended. */
  cancel(child: ChildRef, why: string): Promise<void> {
    const reason = `its parent's attempt ${child.parent.attempt ?? ''} of ${child.parent.task ?? 'the run'} ended: ${why}`;
    return cancelChildRun(this.opts.engine.commits.store, child, (id, by) =>
      this.opts.engine.cancel(id, { by, reason }),
    );
  }

  async emit(effect: EmitEvent, control: { signal: AbortSignal }): Promise<unknown> {
    if (!this.opts.emitEvent) {
      const err = new Error(
        `task ${effect.taskId} cannot emit ${effect.event}: this engine has no emitter (give the Engine an emitEvent, as the CLI does)`,
      );
      throw Object.assign(err, { code: 'LF_EMIT_UNAVAILABLE', retryable: false });
    }
    return this.opts.emitEvent(effect, {
      ...(this.opts.parentFile ? { parentFile: this.opts.parentFile } : {}),
      handlers: this.opts.handlers,
      depth: this.opts.depth + 1,
      signal: control.signal,
    });
  }
}
