/**
 * The file exchange as a NATS worker's handler (`ledgerflow agent --nats`):
 * the worker pulls and claims an attempt as any worker does (src/cluster/
 * worker/), and this handler writes its task file, waits for its result, and
 * returns the output (or throws the error) for the worker to report, fenced
 * by the attempt's NATS token: the engine refuses an outcome for an attempt
 * no longer in flight. The task file's own token is keyed (attempt-token.ts
 * keyedAttemptToken: an HMAC of its run, instance and number under a key the
 * worker derives from the attempt's NATS token), so only whoever reads the
 * task file can answer it, and it is the same when the attempt is delivered
 * again after a crash.
 *
 * A crash between moving the files to `done/` and the report: the attempt is
 * delivered again (claimed by the dead worker: lost, then restarted), and
 * this handler finds its result in `done/` and returns it again; the engine
 * records one outcome per attempt. An attempt aborted (its timeout, a
 * cancel) moves its task file to `rejected/` with why; a result for it that
 * comes later is refused by the sweep (`sweep`), as is any result no attempt
 * waits for.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { durationText, instanceFields, instanceKey } from '../compiler/index.js';
import { NonRetryableError, errorMessage } from '../errors/index.js';
import { ATTEMPT_KEY, keyedAttemptToken } from '../executor/index.js';
import type { TaskContext, TaskHandler } from '../runtime/index.js';
import { moveInto, moveWithReason, readTaskFile, sizeOf, writeAtomic, yamlFiles } from './folders.js';
import { judgeResult, sizeRefusal, taskMessageText, type AgentResult, type TaskMessage } from './messages.js';

export interface NatsExchangeOptions {
  inbox: string;
  outbox: string;
  queue: string;
  pollMs: number;
  log(line: string): void;
}

type Judged = { result: AgentResult } | { refused: string } | null;

export class NatsExchange {
  /** The stems (`<run>-<task>.yaml`) a handler waits on now: the sweep leaves their results to it. */
  private readonly waiting = new Set<string>();

  constructor(private readonly o: NatsExchangeOptions) {}

  private get rejectedIn(): string { return join(this.o.inbox, 'rejected'); }

  /** The handler every handler name this agent answers is given. */
  readonly handler: TaskHandler = async (input, ctx) => {
    const key = instanceKey({ task: ctx.taskId, ...instanceFields(ctx) });
    const stem = `${ctx.runId}-${key}.yaml`;
    // No sequence over NATS (a worker does not read the log): the attempt number is unique per instance, and the
    // token is keyed with what only the worker handed this attempt has, so nobody computes it from `status`.
    const secret = (ctx as { [ATTEMPT_KEY]?: unknown })[ATTEMPT_KEY];
    if (typeof secret !== 'string') throw new NonRetryableError(`the file exchange answers attempts a NATS worker hands it, with the attempt's key; task ${key} of run ${ctx.runId} came without one`, 'LF_AGENT_NO_KEY');
    const token = keyedAttemptToken(secret, ctx.runId, key, ctx.attempt);
    const taskPath = join(this.o.inbox, `task-${stem}`);
    const resultPath = join(this.o.outbox, `result-${stem}`);
    // Delivered again after its files moved to done/ (the report was cut short): the same result, reported again.
    const earlier = await this.judge(join(this.o.outbox, 'done', `result-${stem}`), token);
    if (earlier && 'result' in earlier) return outcomeOf(earlier.result);
    this.waiting.add(stem);
    try {
      const existing = await readTaskFile(taskPath);
      if (existing && existing.header.token !== token) await this.refuse(taskPath, this.rejectedIn, `attempt ${existing.header.attempt} (token ${existing.header.token}) was superseded by attempt ${ctx.attempt}`);
      if (existing?.header.token !== token) {
        await writeAtomic(taskPath, taskMessageText(messageOf(input, ctx, key, token, this.o)));
        this.o.log(`wrote ${taskPath}: attempt ${ctx.attempt} of ${key} in run ${ctx.runId}`);
      }
      for (;;) {
        if (ctx.signal.aborted) {
          const why = errorMessage(ctx.signal.reason ?? 'aborted');
          await this.refuse(taskPath, this.rejectedIn, `attempt ${ctx.attempt} of ${key} in run ${ctx.runId} ended before a result came (${why}); a result for it would not be recorded`);
          throw new Error(why); // the worker reports nothing for an aborted attempt
        }
        const judged = await this.judge(resultPath, token);
        if (judged && 'refused' in judged) await this.refuse(resultPath, join(this.o.outbox, 'rejected'), `result-${stem} ${judged.refused}; nothing was recorded`);
        else if (judged) {
          await moveInto(taskPath, join(this.o.inbox, 'done'));
          await moveInto(resultPath, join(this.o.outbox, 'done'));
          this.o.log(`took result-${stem}: attempt ${ctx.attempt} of ${key} in run ${ctx.runId}`);
          return outcomeOf(judged.result);
        }
        await new Promise<void>((r) => {
          const t = setTimeout(done, this.o.pollMs);
          function done() { clearTimeout(t); ctx.signal.removeEventListener('abort', done); r(); }
          ctx.signal.addEventListener('abort', done);
        });
      }
    } finally {
      this.waiting.delete(stem);
    }
  };

  /** A result file judged against the attempt's token; null when there is none. */
  private async judge(path: string, token: string): Promise<Judged> {
    const size = await sizeOf(path);
    if (size === null) return null;
    const tooBig = sizeRefusal(size);
    if (tooBig) return { refused: `is ${tooBig}` };
    const judged = judgeResult(await readFile(path, 'utf8'));
    if (!judged.ok) return { refused: `is ${judged.reason}` };
    if (judged.result.token !== token) return { refused: `has token ${judged.result.token}, not that of the attempt in flight (${token}): a result for an earlier attempt` };
    return { result: judged.result };
  }

  private async refuse(path: string, folder: string, reason: string): Promise<void> {
    if ((await sizeOf(path)) === null) return;
    await moveWithReason(path, folder, reason);
    this.o.log(`refused ${path}: ${reason}`);
  }

  /**
   * Results no attempt waits for: one whose task file was refused (its attempt ended) is refused with that
   * task file's reason; one no task file of this agent has the token of, too. One whose task file is still
   * in the inbox is left for its attempt, which a restarted worker is handed again.
   */
  async sweep(): Promise<void> {
    for (const name of await yamlFiles(this.o.outbox, 'result-')) {
      const stem = name.slice('result-'.length);
      if (this.waiting.has(stem)) continue;
      const path = join(this.o.outbox, name);
      const size = await sizeOf(path);
      if (size === null) continue;
      const judged = sizeRefusal(size) ? null : judgeResult(await readFile(path, 'utf8'));
      if (!judged?.ok) { await this.refuse(path, join(this.o.outbox, 'rejected'), `${name} ${judged ? `is ${judged.reason}` : `is ${sizeRefusal(size)}`}; nothing was recorded`); continue; }
      const inInbox = await readTaskFile(join(this.o.inbox, `task-${stem}`));
      if (inInbox?.header.token === judged.result.token) continue;
      const base = stem.replace(/\.yaml$/, '');
      let reason = `no attempt waits for token ${judged.result.token}`;
      for (const n of (await yamlFiles(this.rejectedIn, `task-${base}`)).reverse()) {
        if ((await readTaskFile(join(this.rejectedIn, n)))?.header.token !== judged.result.token) continue;
        reason = (await readFile(join(this.rejectedIn, `${n}.reason`), 'utf8').catch(() => reason)).trim();
        break;
      }
      await this.refuse(path, join(this.o.outbox, 'rejected'), `${name} was not recorded: ${reason}`);
    }
  }
}

function outcomeOf(result: AgentResult): unknown {
  if ('output' in result.outcome) return result.outcome.output;
  const e = result.outcome.error;
  if (!e.retryable) throw new NonRetryableError(e.message, e.code);
  throw Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {});
}

function messageOf(input: Record<string, unknown>, ctx: TaskContext, key: string, token: string, o: NatsExchangeOptions): TaskMessage {
  return {
    header: { workflow_id: ctx.runId, task_id: ctx.taskId, agent_level: ctx.task.agentLevel ?? null, timeout: ctx.task.timeoutMs !== undefined ? durationText(ctx.task.timeoutMs) : null, attempt: ctx.attempt, token },
    payload: input,
    routing: {
      workflow: ctx.workflowId, queue: o.queue, ...instanceFields(ctx),
      idempotency_key: ctx.idempotencyKey, requires_response: true, respond_to: join(o.outbox, `result-${ctx.runId}-${key}.yaml`),
    },
  };
}

