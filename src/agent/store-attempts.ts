/**
 * The file exchange's port on the embedded store (exchange.ts): the attempts in flight are read from the runs' logs (an
 * engine holds them for agents, executor/agent-queues.ts) and a result is recorded through the executor's one path for
 * an outcome from outside (RunCommits.recordOutcome: the core's fold decides, fenced by the attempt's token). Several
 * agents on one queue split its attempts by claims (claims.ts), and each says it is there (registry.ts).
 */
import { join, resolve } from 'node:path';
import { atLeast, judge, parseLevel, type Actor, type Level } from '../authority/index.js';
import { durationText, instanceState, type InstanceRef } from '../compiler/index.js';
import { failureStepOf } from '../definition/index.js';
import { errorMessage, RunNotFoundError } from '../errors/index.js';
import {
  attemptStartSeq,
  attemptToken,
  declareAgentQueue,
  forFileAgents,
  RunCommits,
  type LoadedRunLog,
} from '../executor/index.js';
import { heldBy, startAttempt } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { AgentClaims } from './claims.js';
import type { AttemptPort, FileExchangeOptions, ReportVerdict } from './exchange.js';
import type { AgentResult, TaskMessage } from './messages.js';
import { beat, BEAT_MS } from './registry.js';

export interface StoreAttemptsOptions extends FileExchangeOptions {
  store: EventStore;
  /** This agent's authority: it is given only tasks whose `agent_level` it meets. */
  level: Level;
  skills: readonly string[];
  /** Recorded as who reported each outcome (`by`). */
  name: string;
  /** A users file proved who runs the agent (`actor`): tasks are judged by its level (authority `execute`), and `by` is not marked unauthenticated. */
  actor?: Actor;
}

const SETTLED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export class StoreAttempts implements AttemptPort {
  private readonly commits: RunCommits;
  /** Tasks above this agent's level, said once each. */
  private readonly warned = new Set<string>();
  /**
   * Per active run, the task messages its log asked for at the sequence they were read at: a run whose log has not
   * grown is not read and folded again every pass (a store of many waiting runs, polled 5 times a second). Only what
   * the log says is kept, never what the folders held: those are read every pass.
   */
  private readonly seen = new Map<string, { seq: number; messages: Map<string, TaskMessage> }>();
  private readonly claims: AgentClaims;
  private readonly queues: ReadonlySet<string>;
  /** When it last said it is there, holding how many attempts (registry.ts). */
  private beaten = { at: -Infinity, inFlight: -1 };
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly o: StoreAttemptsOptions) {
    this.commits = new RunCommits({ store: o.store });
    this.queues = new Set([o.queue]);
    this.claims = new AgentClaims(o.store, resolve(o.inbox));
  }

  /** Declares the queue as served by file agents: engines on the store hold its attempts for them from now on. */
  declare(): Promise<void> {
    return declareAgentQueue(this.o.store, this.o.queue, {
      level: this.o.level,
      skills: [...this.o.skills],
      since: new Date().toISOString(),
    });
  }

  take(fresh: readonly string[], inFlight: ReadonlySet<string>): Promise<Set<string>> {
    return this.claims.take(fresh, inFlight);
  }

  /** Says it is there (registry.ts): when what it holds changed, else every BEAT_MS. */
  async passed(inFlight: number): Promise<void> {
    const now = Date.now();
    if (inFlight === this.beaten.inFlight && now - this.beaten.at < BEAT_MS) return;
    this.beaten = { at: now, inFlight };
    await beat(
      this.o.store,
      {
        name: this.o.name,
        inbox: resolve(this.o.inbox),
        queue: this.o.queue,
        level: this.o.level,
        skills: [...this.o.skills],
        startedAt: this.startedAt,
        inFlight,
      },
      now,
    );
  }

  async report(message: TaskMessage, outcome: AgentResult['outcome']): Promise<ReportVerdict> {
    const h = message.header;
    try {
      return await this.commits.recordOutcome(
        h.workflow_id,
        refOf(message),
        h.attempt,
        h.token,
        outcome,
        this.o.name,
        this.o.actor !== undefined,
      );
    } catch (err) {
      if (!(err instanceof RunNotFoundError)) throw err;
      return { kind: 'refused', reason: `run ${h.workflow_id} is not in this store` };
    }
  }

  async inFlight(): Promise<{ messages: Map<string, TaskMessage>; unsure: Set<string> }> {
    const messages = new Map<string, TaskMessage>();
    const unsure = new Set<string>();
    const active = new Set<string>();
    for (const run of await this.o.store.listRuns()) {
      if (SETTLED.has(run.status)) continue;
      active.add(run.runId);
      try {
        for (const [stem, message] of await this.messagesOf(run.runId)) messages.set(stem, message);
      } catch (err) {
        unsure.add(run.runId);
        this.o.log(`could not read run ${run.runId} (${errorMessage(err)}); its task files stay as they are`);
      }
    }
    for (const runId of this.seen.keys()) if (!active.has(runId)) this.seen.delete(runId);
    return { messages, unsure };
  }

  /** The task messages of a run's attempts this agent takes (by file stem), read again only when its log grew. */
  private async messagesOf(runId: string): Promise<Map<string, TaskMessage>> {
    const seq = await this.o.store.lastSeq(runId);
    const known = this.seen.get(runId);
    if (known?.seq === seq) return known.messages;
    const loaded = await this.commits.load(runId);
    const messages = new Map<string, TaskMessage>();
    for (const [key, w] of heldBy(loaded.snapshot).attempts) {
      const message = this.messageFor(loaded, key, w);
      if (message) messages.set(`${runId}-${key}.yaml`, message);
    }
    this.seen.set(runId, { seq: loaded.seq, messages });
    return messages;
  }

  /** The task message of an attempt in flight, or null when it is not this agent's to take. */
  private messageFor(
    { compiled, snapshot, events }: LoadedRunLog,
    key: string,
    w: { attempt: number; restart: number; ref: InstanceRef },
  ): TaskMessage | null {
    // What an engine holds for agents (local/in-process-attempts.ts): a handler's attempt, never a program, a child run or an EMIT.
    if (!forFileAgents(compiled, w.ref.task, this.queues)) return null;
    const def = compiled.definition.tasks.find((t) => t.id === w.ref.task)!;
    const start = startAttempt(compiled, snapshot, { key, ...w });
    if (start.command || failureStepOf(start.handler) !== null) return null;
    const need = parseLevel(start.task.agentLevel);
    // The authority rule every store applies (authority/levels.ts): a proven user's, else the level the agent was given.
    const verdict = this.o.actor
      ? judge(this.o.actor, 'execute', { ...(need ? { taskLevel: need } : {}), task: key })
      : null;
    const refused = verdict
      ? verdict.allowed
        ? null
        : verdict.reason
      : need && !atLeast(this.o.level, need)
        ? `it needs an agent of level ${need} or higher authority, and this agent is ${this.o.level}`
        : null;
    if (refused) {
      if (!this.warned.has(key + snapshot.context.runId)) {
        this.warned.add(key + snapshot.context.runId);
        this.o.log(`not taking ${key} of run ${snapshot.context.runId}: ${refused}`);
      }
      return null;
    }
    // Skill routing (docs/limits.md#skills): a task that requires skills this agent lacks is another agent's.
    const requires = start.task.requires;
    if (requires && !requires.every((s) => this.o.skills.includes(s))) return null;
    const startSeq = attemptStartSeq(events, key, w.attempt);
    if (startSeq === undefined) return null;
    const ctx = snapshot.context;
    return {
      header: {
        workflow_id: ctx.runId,
        task_id: w.ref.task,
        agent_level: need ?? null,
        timeout: def.timeoutMs !== undefined ? durationText(def.timeoutMs) : null,
        attempt: w.attempt,
        token: attemptToken(ctx.runId, key, w.attempt, startSeq),
      },
      payload: start.input,
      routing: {
        workflow: ctx.workflowId,
        version: ctx.version,
        queue: this.o.queue,
        ...(w.ref.iteration !== undefined ? { iteration: w.ref.iteration } : {}),
        ...(w.ref.item !== undefined ? { item: w.ref.item } : {}),
        ...(start.deadline !== undefined ? { deadline: start.deadline } : {}),
        idempotency_key: start.idempotencyKey,
        requires_response: true,
        respond_to: join(this.o.outbox, `result-${ctx.runId}-${key}.yaml`),
      },
    };
  }

  /** Why a task file's attempt is over; null when it is in flight after all (a run the listing had not caught up with). */
  async whyOver(message: TaskMessage): Promise<string | null> {
    try {
      const { snapshot } = await this.commits.load(message.header.workflow_id);
      if (snapshot.status !== 'active') return 'the run has ended';
      const t = instanceState(snapshot.context, refOf(message));
      if (t?.status === 'IN_PROGRESS' && t.attempts === message.header.attempt) return null;
      return t ? `the task is ${t.status} at attempt ${t.attempts}` : 'the task has not started';
    } catch (err) {
      return err instanceof RunNotFoundError ? 'the run is not in this store' : errorMessage(err);
    }
  }
}

function refOf(message: TaskMessage): InstanceRef {
  const r = message.routing;
  return {
    task: message.header.task_id,
    ...(r.iteration !== undefined ? { iteration: r.iteration } : {}),
    ...(r.item !== undefined ? { item: r.item } : {}),
  };
}
