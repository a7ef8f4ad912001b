/**
 * The 1N/0UT file exchange (`ledgerflow agent`), one for both stores; what differs is the AttemptPort: which attempts
 * are in flight and how a result is reported (store-attempts.ts: the runs' logs and the executor; worker-attempts.ts: a
 * NATS worker's handler). Each pass: (1) every result in the outbox is judged, paired with the task file whose token it
 * echoes, reported (fenced by that token), then moved with its task file to `done/`, or refused to `rejected/` with a
 * `.reason`; reported first, so a crash before the moves leaves a result the next pass finds `already` recorded; (2)
 * every attempt in flight gets its task file, written whole, unless its result is in `done/` (a crash cut its report
 * short: reported again); (3) a task file whose attempt is over moves to `rejected/` with why. Nothing is remembered
 * between passes: a kill -9 between any two file operations loses nothing, and an outcome is recorded at most once.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors/index.js';
import { moveInto, moveWithReason, readTaskFile, sizeOf, writeAtomic, yamlFiles } from './folders.js';
import { stringify } from 'yaml';
import { judgeResult, sizeRefusal, type AgentResult, type TaskMessage } from './messages.js';

/** What reporting a result came to; `unknown`: the port has no attempt of its token (it may be handed one again). */
export type ReportVerdict =
  | { kind: 'recorded' | 'already'; seq?: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'unknown' };

/** What differs per store. */
export interface AttemptPort {
  /** The task messages of the attempts in flight this agent takes, by file stem (`<run>-<task>.yaml`); `unsure`: runs not read (their task files stay). */
  inFlight(): Promise<{ messages: Map<string, TaskMessage>; unsure: ReadonlySet<string> }>;
  /** Of the tokens a task file would be written for, those this agent takes (several agents on one queue). */
  take(fresh: readonly string[], inFlight: ReadonlySet<string>): Promise<Set<string>>;
  /** Reports a result for the attempt of its task message. */
  report(message: TaskMessage, outcome: AgentResult['outcome']): Promise<ReportVerdict>;
  /** Why a task file's attempt is over; null when it is in flight after all, or not known to be over. */
  whyOver(message: TaskMessage): Promise<string | null>;
  /** After each pass, with how many attempts the agent holds. */
  passed?(inFlight: number): Promise<void>;
}

/** `inbox`: where task files are written (1N.3OX); `outbox`: where results are read (0UT.3OX); `queue`: whose tasks it takes. */
export interface FileExchangeOptions {
  inbox: string;
  outbox: string;
  queue: string;
  log(line: string): void;
}

/** What a pass did, for `--once --json` and tests. */
export interface PassReport {
  written: string[];
  recorded: string[];
  rejected: string[];
}

export class FileExchange {
  constructor(
    private readonly o: FileExchangeOptions,
    private readonly port: AttemptPort,
  ) {}

  /** One pass (one at a time: the caller awaits each). */
  async pass(): Promise<PassReport> {
    const report: PassReport = { written: [], recorded: [], rejected: [] };
    await this.takeResults(report);
    const { messages, unsure } = await this.port.inFlight();
    await this.offer(messages, report);
    await this.reap(messages, unsure, report);
    await this.port.passed?.(messages.size);
    return report;
  }

  private get doneIn(): string {
    return join(this.o.inbox, 'done');
  }
  private get rejectedIn(): string {
    return join(this.o.inbox, 'rejected');
  }

  private async refuse(path: string, folder: string, reason: string, report: PassReport): Promise<void> {
    if ((await sizeOf(path)) === null) return;
    report.rejected.push(await moveWithReason(path, folder, reason));
    this.o.log(`refused ${path}: ${reason}`);
  }

  /** Step 1: results judged, reported once, moved. */
  private async takeResults(report: PassReport): Promise<void> {
    const rejected = join(this.o.outbox, 'rejected');
    // The task file asks for a response (requires_response) and names where it goes (respond_to: result-…): a
    // response-….yaml is that answer under the wrong name. Refused saying so, rather than left there unread.
    for (const name of await yamlFiles(this.o.outbox, 'response-')) {
      const stem = name.slice('response-'.length);
      await this.refuse(
        join(this.o.outbox, name),
        rejected,
        `${name} is not read: a result is named result-<run>-<task>.yaml, as its task file's routing.respond_to says (here result-${stem}); write it under that name. Nothing was recorded`,
        report,
      );
    }
    for (const name of await yamlFiles(this.o.outbox, 'result-')) {
      const path = join(this.o.outbox, name);
      const stem = name.slice('result-'.length);
      const judged = await judgeFile(path);
      if (judged === null) continue;
      if (!judged.ok) {
        await this.refuse(path, rejected, `${name} is ${judged.reason}; nothing was recorded`, report);
        continue;
      }
      const { token, outcome } = judged.result;
      const task = await this.taskFileFor(stem, token);
      if (!task) {
        const inFlight = await readTaskFile(join(this.o.inbox, `task-${stem}`));
        const other = inFlight ? `, not that of the attempt in flight (${inFlight.header.token})` : '';
        await this.refuse(
          path,
          rejected,
          `${name} has token ${token}${other}; no task file task-${stem} of this agent has it (looked in ${this.o.inbox}, its done/ and rejected/): a result answers the task file whose header.token it echoes; nothing was recorded`,
          report,
        );
        continue;
      }
      const h = task.message.header;
      let verdict: ReportVerdict;
      try {
        verdict = await this.port.report(task.message, outcome);
      } catch (err) {
        this.o.log(`could not record ${name} yet (${errorMessage(err)}); trying again`);
        continue;
      }
      if (verdict.kind === 'unknown') {
        // Its task file is in the inbox: the attempt is handed to this agent again, and reports it then.
        if (task.where === 'inbox') continue;
        verdict = {
          kind: 'refused',
          reason: (
            await readFile(`${task.path}.reason`, 'utf8').catch(() => `no attempt waits for token ${token}`)
          ).trim(),
        };
      }
      if (verdict.kind === 'refused') {
        await this.refuse(path, rejected, `${name} was not recorded: ${verdict.reason}`, report);
        if (task.where === 'inbox')
          await this.refuse(task.path, this.rejectedIn, `its result was not recorded: ${verdict.reason}`, report);
        continue;
      }
      if (task.where === 'inbox') await moveInto(task.path, this.doneIn);
      report.recorded.push(await moveInto(path, join(this.o.outbox, 'done')));
      const at = verdict.seq !== undefined ? ` (event ${verdict.seq})` : '';
      this.o.log(
        `${verdict.kind === 'recorded' ? 'recorded' : 'found already recorded'} ${name}: attempt ${h.attempt} of ${h.task_id} in run ${h.workflow_id}${at}`,
      );
    }
  }

  /** The task file (in the inbox, done/ or rejected/) of `stem` whose token is `token`. */
  private async taskFileFor(
    stem: string,
    token: string,
  ): Promise<{ message: TaskMessage; path: string; where: 'inbox' | 'done' | 'rejected' } | null> {
    const base = stem.replace(/\.yaml$/, '');
    const candidates: { path: string; where: 'inbox' | 'done' | 'rejected' }[] = [
      { path: join(this.o.inbox, `task-${stem}`), where: 'inbox' },
      { path: join(this.doneIn, `task-${stem}`), where: 'done' },
      ...(await yamlFiles(this.rejectedIn, `task-${base}.`)).map((n) => ({
        path: join(this.rejectedIn, n),
        where: 'rejected' as const,
      })),
      ...(await yamlFiles(this.rejectedIn, `task-${stem}`)).map((n) => ({
        path: join(this.rejectedIn, n),
        where: 'rejected' as const,
      })),
    ];
    for (const c of candidates) {
      const message = await readTaskFile(c.path);
      if (message?.header.token === token) return { message, ...c };
    }
    return null;
  }

  /** Step 2: a task file for every attempt in flight that this agent takes. */
  private async offer(messages: Map<string, TaskMessage>, report: PassReport): Promise<void> {
    const fresh: { stem: string; message: TaskMessage; existing: TaskMessage | null }[] = [];
    for (const [stem, message] of messages) {
      const existing = await readTaskFile(join(this.o.inbox, `task-${stem}`));
      if (existing?.header.token === message.header.token || (await this.reportedFromDone(stem, message))) continue;
      fresh.push({ stem, message, existing });
    }
    const mine = await this.port.take(
      fresh.map((f) => f.message.header.token),
      new Set([...messages.values()].map((m) => m.header.token)),
    );
    for (const { stem, message, existing } of fresh) {
      if (!mine.has(message.header.token)) continue;
      const path = join(this.o.inbox, `task-${stem}`);
      if (existing)
        await this.refuse(
          path,
          this.rejectedIn,
          `attempt ${existing.header.attempt} (token ${existing.header.token}) was superseded by attempt ${message.header.attempt}`,
          report,
        );
      await writeAtomic(path, stringify(message));
      report.written.push(path);
      const runId = message.header.workflow_id;
      this.o.log(
        `wrote ${path}: attempt ${message.header.attempt} of ${stem.slice(runId.length + 1, -'.yaml'.length)} in run ${runId}`,
      );
    }
  }

  /** An attempt in flight whose result is in done/ already (moved, its report cut short by a crash): reported again. */
  private async reportedFromDone(stem: string, message: TaskMessage): Promise<boolean> {
    const path = join(this.o.outbox, 'done', `result-${stem}`);
    const judged = await judgeFile(path);
    if (!judged?.ok || judged.result.token !== message.header.token) return false;
    const verdict = await this.port.report(message, judged.result.outcome);
    if (verdict.kind !== 'recorded' && verdict.kind !== 'already') return false;
    this.o.log(
      `reported ${path} again: attempt ${message.header.attempt} of ${message.header.task_id} in run ${message.header.workflow_id}`,
    );
    return true;
  }

  /** Step 3: task files whose attempts are no longer in flight go to rejected/, unless a result for them waits to be judged. */
  private async reap(
    messages: Map<string, TaskMessage>,
    unsure: ReadonlySet<string>,
    report: PassReport,
  ): Promise<void> {
    for (const name of await yamlFiles(this.o.inbox, 'task-')) {
      const stem = name.slice('task-'.length);
      if (messages.has(stem) || (await sizeOf(join(this.o.outbox, `result-${stem}`))) !== null) continue;
      const path = join(this.o.inbox, name);
      const message = await readTaskFile(path);
      if (message && unsure.has(message.header.workflow_id)) continue;
      if (!message) {
        await this.refuse(path, this.rejectedIn, 'not a task file this agent wrote (no header with a token)', report);
        continue;
      }
      const h = message.header;
      const why = await this.port.whyOver(message);
      if (why === null) continue;
      await this.refuse(
        path,
        this.rejectedIn,
        `attempt ${h.attempt} of ${h.task_id} in run ${h.workflow_id} is no longer in flight (${why}); a result for it would not be recorded`,
        report,
      );
    }
  }
}

/** A result file judged (size cap, YAML, shape); null when it is gone. */
async function judgeFile(path: string): Promise<ReturnType<typeof judgeResult> | null> {
  const size = await sizeOf(path);
  if (size === null) return null;
  const tooBig = sizeRefusal(size);
  return tooBig ? { ok: false, reason: tooBig } : judgeResult(await readFile(path, 'utf8'));
}
