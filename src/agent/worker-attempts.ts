/**
 * The file exchange's port over NATS (exchange.ts): the worker pulls and claims an attempt as any worker does
 * (src/cluster/worker/) and hands it to `handler`, which holds it in flight until the exchange reports its result, then
 * returns the output (or throws the error) for the worker to report, fenced by the attempt's NATS token: the engine
 * refuses an outcome for an attempt no longer in flight. The task file's own token is keyed (attempt-token.ts
 * keyedAttemptToken: an HMAC of its run, instance and number under a key the worker derives from the attempt's NATS
 * token), so only whoever reads the task file can answer it, and it is the same when the attempt is delivered again
 * after a crash: a result already in `done/` is then reported again (the engine records one outcome per attempt).
 */
import { join } from 'node:path';
import { durationText, instanceFields, instanceKey } from '../compiler/index.js';
import { NonRetryableError, errorMessage } from '../errors/index.js';
import { attemptKeyIn, keyedAttemptToken } from '../executor/index.js';
import type { TaskHandler } from '../runtime/index.js';
import type { AttemptPort, FileExchangeOptions, ReportVerdict } from './exchange.js';
import type { AgentResult, TaskMessage } from './messages.js';

interface Waiting {
  message: TaskMessage;
  settle(outcome: AgentResult['outcome'] | null): void;
}

export class WorkerAttempts implements AttemptPort {
  /** The attempts handlers hold now, by file stem. */
  private readonly waiting = new Map<string, Waiting>();
  /** Attempts that ended before a result came (a timeout, a cancel), by token: why, for their task files. */
  private readonly ended = new Map<string, string>();

  /** `wake`: asks the exchange for a pass (an attempt came). */
  constructor(
    private readonly o: FileExchangeOptions,
    private readonly wake: () => void = () => {},
  ) {}

  /** The handler every handler name this agent answers is given. */
  readonly handler: TaskHandler = async (input, ctx) => {
    const key = instanceKey({ task: ctx.taskId, ...instanceFields(ctx) });
    const stem = `${ctx.runId}-${key}.yaml`;
    // No sequence over NATS (a worker does not read the log): the attempt number is unique per instance, and the token
    // is keyed with what only the worker handed this attempt has, so nobody computes it from `status`.
    const secret = attemptKeyIn(ctx);
    if (secret === undefined)
      throw new NonRetryableError(
        `the file exchange answers attempts a NATS worker hands it, with the attempt's key; task ${key} of run ${ctx.runId} came without one`,
        'LF_AGENT_NO_KEY',
      );
    const token = keyedAttemptToken(secret, ctx.runId, key, ctx.attempt);
    const message: TaskMessage = {
      header: {
        workflow_id: ctx.runId,
        task_id: ctx.taskId,
        agent_level: ctx.task.agentLevel ?? null,
        timeout: ctx.task.timeoutMs !== undefined ? durationText(ctx.task.timeoutMs) : null,
        attempt: ctx.attempt,
        token,
      },
      payload: input,
      routing: {
        workflow: ctx.workflowId,
        queue: this.o.queue,
        ...instanceFields(ctx),
        idempotency_key: ctx.idempotencyKey,
        requires_response: true,
        respond_to: join(this.o.outbox, `result-${stem}`),
      },
    };
    const why = () => errorMessage(ctx.signal.reason ?? 'aborted');
    const outcome = await new Promise<AgentResult['outcome'] | null>((settle) => {
      const w = { message, settle };
      this.waiting.set(stem, w);
      this.wake();
      const abort = () => {
        if (this.waiting.get(stem) === w) {
          this.waiting.delete(stem);
          this.ended.set(token, `it ended before a result came (${why()})`);
        }
        settle(null);
      };
      if (ctx.signal.aborted) abort();
      else ctx.signal.addEventListener('abort', abort, { once: true });
    });
    if (outcome === null) throw new Error(why()); // the worker reports nothing for an aborted attempt
    return outcomeOf(outcome);
  };

  async inFlight(): Promise<{ messages: Map<string, TaskMessage>; unsure: ReadonlySet<string> }> {
    return { messages: new Map([...this.waiting].map(([stem, w]) => [stem, w.message])), unsure: new Set() };
  }

  async take(fresh: readonly string[]): Promise<Set<string>> {
    return new Set(fresh);
  }

  async report(message: TaskMessage, outcome: AgentResult['outcome']): Promise<ReportVerdict> {
    for (const [s, w] of this.waiting) {
      if (w.message.header.token !== message.header.token) continue;
      this.waiting.delete(s);
      w.settle(outcome);
      return { kind: 'recorded' };
    }
    return { kind: 'unknown' };
  }

  async whyOver(message: TaskMessage): Promise<string | null> {
    const why = this.ended.get(message.header.token) ?? null;
    this.ended.delete(message.header.token);
    return why;
  }
}

function outcomeOf(outcome: AgentResult['outcome']): unknown {
  if ('output' in outcome) return outcome.output;
  const e = outcome.error;
  if (!e.retryable) throw new NonRetryableError(e.message, e.code);
  throw Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {});
}
