/**
 * A file agent on the embedded store (`ledgerflow agent`): the worker whose
 * handler is whatever reads and writes files. Each pass, in this order:
 *
 * 1. every result in the outbox is judged (size cap, YAML, shape), paired
 *    with the task file whose token it echoes, and recorded through the
 *    executor's one path for an outcome from outside (RunCommits.recordOutcome:
 *    the core's fold decides, fenced by the attempt's token); then its task
 *    file and it move to `done/` — or, refused, to `rejected/` with a
 *    `.reason`. Recording comes first: a crash before the moves leaves a result
 *    the next pass finds recorded (`already`) and only moves.
 * 2. every attempt in flight on its queue (the runs' logs say which; an
 *    engine holds them for agents, executor/agent-queues.ts) that this agent's
 *    level may execute gets its task file, written whole (temp + rename).
 * 3. a task file whose attempt is no longer in flight (timed out, cancelled,
 *    the run settled) moves to `rejected/` with why; a retry gets a new one.
 *
 * Nothing here is remembered between passes: the folders and the log are the
 * state, so a kill -9 between any two file operations loses nothing, and an
 * outcome is recorded at most once (its token, and the log, say if it was).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { atLeast, judge, parseLevel, type Actor, type Level } from '../authority/index.js';
import { durationText, instanceState, type InstanceRef } from '../compiler/index.js';
import { failureStepOf } from '../definition/index.js';
import { errorMessage, RunNotFoundError } from '../errors/index.js';
import { attemptStartSeq, attemptToken, declareAgentQueue, forFileAgents, RunCommits, type AgentOutcomeVerdict, type LoadedRunLog } from '../executor/index.js';
import { heldBy, startAttempt } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { AgentClaims } from './claims.js';
import { beat, BEAT_MS } from './registry.js';
import { moveInto, moveWithReason, readTaskFile, sizeOf, writeAtomic, yamlFiles } from './folders.js';
import { judgeResult, sizeRefusal, taskMessageText, type TaskMessage } from './messages.js';

export interface FileAgentOptions {
  store: EventStore;
  /** Where task files are written (1N.3OX). */
  inbox: string;
  /** Where results are read (0UT.3OX). */
  outbox: string;
  /** The queue whose tasks this agent takes (a task's `queue:`). */
  queue: string;
  /** This agent's authority: it is given only tasks whose `agent_level` it meets. */
  level: Level;
  skills: readonly string[];
  /** Recorded as who reported each outcome (`by`). */
  name: string;
  /** A users file proved who runs the agent (`actor`): tasks are judged by its level (authority `execute`), and `by` is not marked unauthenticated. */
  actor?: Actor;
  log(line: string): void;
}

/** What a pass did, for `--once --json` and tests. */
export interface PassReport { written: string[]; recorded: string[]; rejected: string[] }

const SETTLED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export class FileAgent {
  private readonly commits: RunCommits;
  /** Tasks above this agent's level, said once each. */
  private readonly warned = new Set<string>();
  /**
   * Per active run, the task messages its log asked for at the sequence they were read at: a run whose log
   * has not grown is not read and folded again every pass (a store of many waiting runs, polled 5 times a
   * second). Only what the log says is kept, never what the folders held: those are read every pass.
   */
  private readonly seen = new Map<string, { seq: number; messages: Map<string, TaskMessage> }>();

  /** Which new attempts are this agent's when others serve the queue too. */
  private readonly claims: AgentClaims;
  /** This agent's queue, as forFileAgents asks. */
  private readonly queues: ReadonlySet<string>;
  /** When it last said it is there, holding how many attempts (registry.ts). */
  private beaten = { at: -Infinity, inFlight: -1 };
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly o: FileAgentOptions) {
    this.commits = new RunCommits({ store: o.store });
    this.queues = new Set([o.queue]);
    this.claims = new AgentClaims(o.store, resolve(o.inbox));
  }

  /** Declares the queue as served by file agents: engines on the store hold its attempts for them from now on. */
  declare(): Promise<void> {
    return declareAgentQueue(this.o.store, this.o.queue, { level: this.o.level, skills: [...this.o.skills], since: new Date().toISOString() });
  }

  async pass(): Promise<PassReport> {
    const report: PassReport = { written: [], recorded: [], rejected: [] };
    await this.takeResults(report);
    const { wanted, unsure } = await this.offerAttempts(report);
    await this.reap(wanted, unsure, report);
    await this.beat(wanted.size);
    return report;
  }

  /** Says it is there (registry.ts): when what it holds changed, else every BEAT_MS. */
  private async beat(inFlight: number): Promise<void> {
    const now = Date.now();
    if (inFlight === this.beaten.inFlight && now - this.beaten.at < BEAT_MS) return;
    this.beaten = { at: now, inFlight };
    await beat(this.o.store, { name: this.o.name, inbox: resolve(this.o.inbox), queue: this.o.queue, level: this.o.level, skills: [...this.o.skills], startedAt: this.startedAt, inFlight }, now);
  }

  private get doneIn(): string { return join(this.o.inbox, 'done'); }
  private get rejectedIn(): string { return join(this.o.inbox, 'rejected'); }

  private async refuse(path: string, folder: string, reason: string, report: PassReport): Promise<void> {
    const to = await moveWithReason(path, folder, reason);
    report.rejected.push(to);
    this.o.log(`refused ${path}: ${reason}`);
  }

  /** Step 1: results judged, recorded once, moved. */
  private async takeResults(report: PassReport): Promise<void> {
    const rejected = join(this.o.outbox, 'rejected');
    // The task file asks for a response (requires_response) and names where it goes (respond_to: result-…): a
    // response-….yaml is that answer under the wrong name. Refused saying so, rather than left there unread.
    for (const name of await yamlFiles(this.o.outbox, 'response-')) {
      const stem = name.slice('response-'.length);
      await this.refuse(join(this.o.outbox, name), rejected, `${name} is not read: a result is named result-<run>-<task>.yaml, as its task file's routing.respond_to says (here result-${stem}); write it under that name. Nothing was recorded`, report);
    }
    for (const name of await yamlFiles(this.o.outbox, 'result-')) {
      const path = join(this.o.outbox, name);
      const stem = name.slice('result-'.length);
      const size = await sizeOf(path);
      if (size === null) continue;
      const tooBig = sizeRefusal(size);
      if (tooBig) { await this.refuse(path, rejected, `${name} is ${tooBig}; nothing was recorded`, report); continue; }
      const judged = judgeResult(await readFile(path, 'utf8'));
      if (!judged.ok) { await this.refuse(path, rejected, `${name} is ${judged.reason}; nothing was recorded`, report); continue; }
      const { token, outcome } = judged.result;
      const task = await this.taskFileFor(stem, token);
      if (!task) {
        await this.refuse(path, rejected, `no task file task-${stem} of this agent has token ${token} (looked in ${this.o.inbox}, its done/ and rejected/): a result answers the task file whose header.token it echoes; nothing was recorded`, report);
        continue;
      }
      const h = task.message.header;
      let verdict: AgentOutcomeVerdict;
      try {
        verdict = await this.commits.recordOutcome(h.workflow_id, refOf(task.message), h.attempt, token, outcome, this.o.name, this.o.actor !== undefined);
      } catch (err) {
        if (!(err instanceof RunNotFoundError)) { this.o.log(`could not record ${name} yet (${errorMessage(err)}); trying again`); continue; }
        verdict = { kind: 'refused', reason: `run ${h.workflow_id} is not in this store` };
      }
      if (verdict.kind === 'refused') {
        await this.refuse(path, rejected, `${name} was not recorded: ${verdict.reason}`, report);
        if (task.where === 'inbox') await this.refuse(task.path, this.rejectedIn, `its result was not recorded: ${verdict.reason}`, report);
        continue;
      }
      if (task.where === 'inbox') await moveInto(task.path, this.doneIn);
      report.recorded.push(await moveInto(path, join(this.o.outbox, 'done')));
      this.o.log(`${verdict.kind === 'recorded' ? 'recorded' : 'found already recorded'} ${name}: attempt ${h.attempt} of ${h.task_id} in run ${h.workflow_id} (event ${verdict.seq})`);
    }
  }

  /** The task file (in the inbox, done/ or rejected/) of `stem` whose token is `token`. */
  private async taskFileFor(stem: string, token: string): Promise<{ message: TaskMessage; path: string; where: 'inbox' | 'done' | 'rejected' } | null> {
    const base = stem.replace(/\.yaml$/, '');
    const candidates: { path: string; where: 'inbox' | 'done' | 'rejected' }[] = [
      { path: join(this.o.inbox, `task-${stem}`), where: 'inbox' },
      { path: join(this.doneIn, `task-${stem}`), where: 'done' },
      ...(await yamlFiles(this.rejectedIn, `task-${base}.`)).map((n) => ({ path: join(this.rejectedIn, n), where: 'rejected' as const })),
      ...(await yamlFiles(this.rejectedIn, `task-${stem}`)).map((n) => ({ path: join(this.rejectedIn, n), where: 'rejected' as const })),
    ];
    for (const c of candidates) {
      const message = await readTaskFile(c.path);
      if (message?.header.token === token) return { message, ...c };
    }
    return null;
  }

  /** Step 2: a task file for every attempt in flight on this queue that this agent may take. */
  private async offerAttempts(report: PassReport): Promise<{ wanted: Map<string, string>; unsure: Set<string> }> {
    const wanted = new Map<string, string>();
    const unsure = new Set<string>();
    const active = new Set<string>();
    const fresh: { stem: string; message: TaskMessage; existing: TaskMessage | null; runId: string }[] = [];
    for (const run of await this.o.store.listRuns()) {
      if (SETTLED.has(run.status)) continue;
      active.add(run.runId);
      let messages: Map<string, TaskMessage>;
      try {
        messages = await this.messagesOf(run.runId);
      } catch (err) {
        unsure.add(run.runId);
        this.o.log(`could not read run ${run.runId} (${errorMessage(err)}); its task files stay as they are`);
        continue;
      }
      for (const [stem, message] of messages) {
        wanted.set(stem, message.header.token);
        const existing = await readTaskFile(join(this.o.inbox, `task-${stem}`));
        if (existing?.header.token !== message.header.token) fresh.push({ stem, message, existing, runId: run.runId });
      }
    }
    // Several agents on one queue: each new attempt goes to the one that claims it first (claims.ts).
    const mine = await this.claims.take(fresh.map((f) => f.message.header.token), new Set(wanted.values()));
    for (const { stem, message, existing, runId } of fresh) {
      if (!mine.has(message.header.token)) continue;
      const path = join(this.o.inbox, `task-${stem}`);
      if (existing) await this.refuse(path, this.rejectedIn, `attempt ${existing.header.attempt} (token ${existing.header.token}) was superseded by attempt ${message.header.attempt}`, report);
      await writeAtomic(path, taskMessageText(message));
      report.written.push(path);
      this.o.log(`wrote ${path}: attempt ${message.header.attempt} of ${stem.slice(runId.length + 1, -'.yaml'.length)} in run ${runId}`);
    }
    for (const runId of this.seen.keys()) if (!active.has(runId)) this.seen.delete(runId);
    return { wanted, unsure };
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
  private messageFor({ compiled, snapshot, events }: LoadedRunLog, key: string, w: { attempt: number; restart: number; ref: InstanceRef }): TaskMessage | null {
    // What an engine holds for agents (local/in-process-attempts.ts): a handler's attempt, never a program, a child run or an EMIT.
    if (!forFileAgents(compiled, w.ref.task, this.queues)) return null;
    const def = compiled.definition.tasks.find((t) => t.id === w.ref.task)!;
    const start = startAttempt(compiled, snapshot, { key, ...w });
    if (start.command || failureStepOf(start.handler) !== null) return null;
    const need = parseLevel(start.task.agentLevel);
    // The authority rule every store applies (authority/levels.ts): a proven user's, else the level the agent was given.
    const verdict = this.o.actor ? judge(this.o.actor, 'execute', { ...(need ? { taskLevel: need } : {}), task: key }) : null;
    const refused = verdict ? (verdict.allowed ? null : verdict.reason) : need && !atLeast(this.o.level, need) ? `it needs an agent of level ${need} or higher authority, and this agent is ${this.o.level}` : null;
    if (refused) {
      if (!this.warned.has(key + snapshot.context.runId)) {
        this.warned.add(key + snapshot.context.runId);
        this.o.log(`not taking ${key} of run ${snapshot.context.runId}: ${refused}`);
      }
      return null;
    }
    // Skill routing (docs/language.md#skills): a task that requires skills this agent lacks is another agent's.
    const requires = start.task.requires;
    if (requires && !requires.every((s) => this.o.skills.includes(s))) return null;
    const startSeq = attemptStartSeq(events, key, w.attempt);
    if (startSeq === undefined) return null;
    const ctx = snapshot.context;
    return {
      header: {
        workflow_id: ctx.runId, task_id: w.ref.task, agent_level: need ?? null,
        timeout: def.timeoutMs !== undefined ? durationText(def.timeoutMs) : null,
        attempt: w.attempt, token: attemptToken(ctx.runId, key, w.attempt, startSeq),
      },
      payload: start.input,
      routing: {
        workflow: ctx.workflowId, version: ctx.version, queue: this.o.queue,
        ...(w.ref.iteration !== undefined ? { iteration: w.ref.iteration } : {}), ...(w.ref.item !== undefined ? { item: w.ref.item } : {}),
        ...(start.deadline !== undefined ? { deadline: start.deadline } : {}),
        idempotency_key: start.idempotencyKey, requires_response: true,
        respond_to: join(this.o.outbox, `result-${ctx.runId}-${key}.yaml`),
      },
    };
  }

  /** Step 3: task files whose attempts are no longer in flight go to rejected/, unless a result for them waits to be judged. */
  private async reap(wanted: Map<string, string>, unsure: Set<string>, report: PassReport): Promise<void> {
    for (const name of await yamlFiles(this.o.inbox, 'task-')) {
      const stem = name.slice('task-'.length);
      if (wanted.has(stem) || (await sizeOf(join(this.o.outbox, `result-${stem}`))) !== null) continue;
      const path = join(this.o.inbox, name);
      const message = await readTaskFile(path);
      if (message && unsure.has(message.header.workflow_id)) continue;
      if (!message) { await this.refuse(path, this.rejectedIn, 'not a task file this agent wrote (no header with a token)', report); continue; }
      // Judged by a pass that did not see it wanted: read the run again, in case it moved on meanwhile.
      const h = message.header;
      const why = await this.whyOver(message);
      if (why === null) continue;
      await this.refuse(path, this.rejectedIn, `attempt ${h.attempt} of ${h.task_id} in run ${h.workflow_id} is no longer in flight (${why}); a result for it would not be recorded`, report);
    }
  }

  /** Why a task file's attempt is over; null when it is in flight after all (a run the listing had not caught up with). */
  private async whyOver(message: TaskMessage): Promise<string | null> {
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
  return { task: message.header.task_id, ...(r.iteration !== undefined ? { iteration: r.iteration } : {}), ...(r.item !== undefined ? { item: r.item } : {}) };
}

