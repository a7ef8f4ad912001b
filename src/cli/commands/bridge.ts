/**
 * `ledgerflow bridge` (docs/bridge.md): CMD.BRIDGE lines (one command a line,
 * `@workflow inventory-validation-v1 target_folder=0UT.3OX`) from standard input, a file, or files dropped in an inbox
 * folder (bridge-inbox.ts), each answered with one line. On the embedded store: a `@workflow` line's run is started and
 * driven by this process, as `start <id>` drives it (`--detach`: recorded for `serve`); `@approve` and `@cancel` are
 * recorded as the bridge's user, and a run nobody drives is moved on here.
 *
 * Who acts is the CLI's question, answered by the CLI's own functions: the bridge signs in once at its start as
 * `ledgerflow approve --as <user>` does (acting.ts: the users file, LEDGERFLOW_PASSWORD or the prompt), a `@workflow`
 * line is judged by `requireStart` as `start` is, and `@approve` and `@cancel` are taken by the run API as `approve`
 * and `cancel` take them, so a line and its command can never be judged apart (docs/users.md).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { parseLevel, type Level } from '../../authority/index.js';
import { BridgeLineError, parseBridgeLine, type BridgeCommand } from '../../bridge/index.js';
import { LedgerflowError, RunBusyError, UsageError, errorMessage } from '../../errors/index.js';
import type { Engine } from '../../local/index.js';
import { inert } from '../../terminal/index.js';
import { actingUser, atMost, requireStart, startedBy, type Acting } from '../flags/acting.js';
import { embeddedRuns } from '../../runs/embedded.js';
import { type Answer, checkInbox, refuseOpenInbox, shownAnswer, watchInbox } from './bridge-inbox.js';
import { driveFlags, engineFor, handlersFor, recordedHandlers, taskRunners } from '../drive.js';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import { runsFor } from '../runs.js';
import { findDefinition } from '../store-side.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';

export interface BridgeOpts {
  inbox?: string;
  inboxLevel?: string;
  as?: string;
  json?: boolean;
  detach?: boolean;
  handlers?: string;
}

/** The options as commander gives them, checked at the edge: a name is no empty string, a level one of L0–L3. */
const Options = z.object({
  inbox: z.string().min(1, '--inbox names a folder').optional(),
  inboxLevel: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const level = parseLevel(v);
      if (level === null)
        ctx.addIssue({
          code: 'custom',
          message: `--inbox-level ${v} is not a level: L0, L1, L2 or L3 (docs/users.md)`,
        });
      return level ?? undefined;
    }),
  as: z.string().min(1, '--as names a user').optional(),
  json: z.boolean().optional(),
  detach: z.boolean().optional(),
  handlers: z.string().optional(),
});

function checkedOptions(given: BridgeOpts): z.output<typeof Options> {
  const r = Options.safeParse(given);
  if (!r.success)
    throw new UsageError(`bridge: ${r.error.issues.map((i) => i.message).join('; ')}`, { command: 'bridge' });
  return r.data;
}

class Bridge {
  private readonly engine: Engine;
  /** Runs started or moved on here, driven in the background until they settle or wait. */
  private readonly driving = new Set<Promise<unknown>>();

  /** `acting`: who the lines act as, signed in once at the bridge's start (for an inbox, no higher than its level). */
  constructor(
    private readonly g: GlobalOpts,
    private readonly o: BridgeOpts,
    private readonly warn: (line: string) => void,
    private readonly acting: Acting,
  ) {
    this.engine = engineFor(g, taskRunners({}));
  }

  /** The answer to line `lineNo`; null for a blank or comment line. `callerId`: the run id a `@workflow` line starts (an inbox file's lines are taken once). */
  async answer(text: string, lineNo: number, callerId?: string): Promise<Answer | null> {
    let command: BridgeCommand | null;
    try {
      command = parseBridgeLine(text, lineNo);
    } catch (err) {
      if (!(err instanceof BridgeLineError)) throw err;
      return {
        ok: false,
        text: `line ${err.line}:${err.col}: error: ${err.reason}; nothing was done`,
        json: { line: lineNo, ok: false, error: { code: err.code, message: err.reason, line: err.line, col: err.col } },
      };
    }
    if (command === null) return null;
    try {
      return await this.act(command, lineNo, callerId);
    } catch (err) {
      const code = err instanceof LedgerflowError ? err.code : 'LF_INTERNAL';
      // Refused for who acts (their level, not an approver): the CLI's command would exit 2 for it.
      const refused = err instanceof LedgerflowError && err.kind === 'permission';
      return {
        ok: false,
        ...(refused ? { refused } : {}),
        text: `line ${lineNo}: error: ${errorMessage(err)}`,
        json: { line: lineNo, ok: false, command: command.kind, error: { code, message: errorMessage(err) } },
      };
    }
  }

  private async act(c: BridgeCommand, lineNo: number, callerId?: string): Promise<Answer> {
    const ok = (text: string, json: Record<string, unknown>): Answer => ({
      ok: true,
      text: `line ${lineNo}: ok: ${text}`,
      json: { line: lineNo, ok: true, command: c.kind, ...json },
    });
    if (c.kind === 'status') {
      const v = await this.engine.status(c.runId);
      const waits = Object.entries(v.tasks)
        .filter(([, t]) => t.status === 'PENDING_APPROVAL')
        .map(([id]) => id);
      return ok(
        `run ${v.runId} ${v.workflowId} v${v.version} ${v.status}${waits.length ? `, waiting for approval of ${waits.join(', ')}` : ''}`,
        { runId: v.runId, workflowId: v.workflowId, version: v.version, status: v.status },
      );
    }
    if (c.kind === 'approve' || c.kind === 'cancel') {
      const input =
        c.kind === 'approve'
          ? {
              kind: 'approval' as const,
              taskId: c.taskId,
              decision: 'approved' as const,
              ...(c.comment !== undefined ? { comment: c.comment } : {}),
            }
          : { kind: 'control' as const, action: 'cancel' as const };
      // The CLI's own approve and cancel, as the user signed in at the start: the same level, approvers and refusals.
      const out = await (await runsFor(this.g)).input(c.runId, input, this.acting);
      const by = out.by;
      if (c.kind === 'approve') this.moveOn(c.runId);
      const what =
        c.kind === 'approve'
          ? `approved ${c.taskId} for run ${c.runId} as ${by}`
          : out.changed
            ? `cancelled run ${c.runId} as ${by}`
            : `run ${c.runId} is already ${out.status}: nothing to cancel`;
      return ok(`${what}${out.seq !== null ? ` (event ${out.seq})` : ''}${out.status ? `, ${out.status}` : ''}`, {
        runId: c.runId,
        by,
        changed: out.changed,
        seq: out.seq,
        status: out.status,
      });
    }
    const loaded = findDefinition(c.ref);
    // Judged as `start <id>` judges it, before anything is recorded.
    requireStart(this.acting, loaded.definition);
    const { handlers, path } = await handlersFor(this.o.handlers, loaded.handlersPath);
    const start = {
      inputFromStrings: true,
      source: { file: loaded.file, ...(path ? { handlers: path } : {}), ...startedBy(this.acting) },
      ...(callerId !== undefined ? { runId: callerId } : {}),
    };
    if (this.o.detach) {
      // Recorded by the run API, judged again there as `start --detach` is.
      const runApi = embeddedRuns({ engine: this.engine, store: this.engine.store, fallback: this.acting.name });
      const s = await runApi.start(
        {
          definition: loaded.definition,
          input: c.inputs,
          inputFromStrings: true,
          source: { file: loaded.file, ...(path ? { handlers: path } : {}) },
          ...(callerId !== undefined ? { runId: callerId } : {}),
        },
        this.acting,
      );
      const status = s.status;
      return ok(
        `run ${s.runId} ${s.existing ? 'exists already' : 'started'} (${loaded.definition.id} v${loaded.definition.version}, ${status}${s.existing ? '' : '; `ledgerflow serve` runs it'})`,
        {
          runId: s.runId,
          workflowId: loaded.definition.id,
          version: loaded.definition.version,
          status,
          existing: s.existing,
        },
      );
    }
    // Started and driven here: answered once its start is recorded, driven on in the background.
    let started: (id: string) => void = () => undefined;
    const begun = new Promise<string>((r) => {
      started = r;
    });
    const run = this.engine.run(loaded.definition, c.inputs, {
      ...start,
      handlers,
      ...driveFlags({}),
      onStarted: (id) => started(id),
    });
    // A start refused (an input the definition does not take) rejects here: the line's answer, nothing recorded.
    const runId = await Promise.race([begun, run.then((v) => v.runId)]);
    this.track(run);
    const now = await Promise.race([run, this.engine.status(runId)]);
    const existing = 'existing' in now && now.existing === true;
    return ok(
      `run ${runId} ${existing ? 'exists already' : 'started'} (${loaded.definition.id} v${loaded.definition.version}, ${now.status})`,
      { runId, workflowId: loaded.definition.id, version: loaded.definition.version, status: now.status, existing },
    );
  }

  /** After an approval: the run driven on here, unless another process holds it (a serve, the run that started it). */
  private moveOn(runId: string): void {
    const go = (async () => {
      const loaded = await this.engine.load(runId);
      if (loaded.snapshot.status !== 'active') return;
      const { handlers } = await recordedHandlers(this.o.handlers, loaded.events);
      await this.engine.drive(loaded, { handlers, ...driveFlags({}) });
    })();
    this.track(go);
  }

  private track(p: Promise<unknown>): void {
    const done = p.catch((err: unknown) => {
      if (err instanceof RunBusyError) return; // another process drives it: it acts on what was recorded
      this.warn(`warning: ${errorMessage(err)}`);
    });
    this.driving.add(done);
    void done.then(() => this.driving.delete(done));
  }

  /** Waits for the runs driven here to settle or wait for someone. */
  async settle(): Promise<void> {
    while (this.driving.size > 0) await Promise.allSettled([...this.driving]);
  }
}

export async function bridgeCmd(io: Io, g: GlobalOpts, file: string | undefined, given: BridgeOpts): Promise<number> {
  const opts = checkedOptions(given);
  if (usesNats(g))
    throw new UsageError(
      'bridge runs on the embedded store (--store): over NATS, start deployed workflows with `ledgerflow start --nats`',
      { option: '--nats' },
    );
  if (file !== undefined && opts.inbox !== undefined)
    throw new UsageError('bridge reads a file or watches an --inbox folder, not both', { option: '--inbox' });
  if (opts.inboxLevel !== undefined && opts.inbox === undefined)
    throw new UsageError("--inbox-level is the level of an --inbox folder's files: give --inbox <dir> too", {
      option: '--inbox-level',
    });
  const dir = opts.inbox !== undefined ? resolve(opts.inbox) : undefined;
  if (dir !== undefined) checkInbox(dir);
  // Signed in once, before any line is read, as the CLI signs in for approve: refused here (exit 2), nothing done.
  const user = await actingUser(opts.as);
  if (dir !== undefined)
    return watchInbox(
      io,
      new Bridge(g, opts, (l) => io.err(inert(l)), inboxActing(io, dir, user, opts.inboxLevel)),
      dir,
      opts,
    );
  const bridge = new Bridge(g, opts, (l) => io.err(inert(l)), user);
  let failed = 0;
  let refused = false;
  let lineNo = 0;
  const lines =
    file !== undefined
      ? readFileSync(file, 'utf8').split('\n')
      : createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const text of lines) {
    lineNo++;
    const a = await bridge.answer(text, lineNo);
    if (!a) continue;
    if (!a.ok) failed++;
    refused ||= a.refused === true;
    io.out(shownAnswer(a, opts.json));
  }
  await bridge.settle();
  // A line refused for who acts exits as its command would (2); any other line not answered ok, 1.
  return refused ? EXIT.usage : failed > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * Who an inbox's files act as: the bridge's signed-in user, and with a users file no higher than `--inbox-level`, which
 * is then required (whoever can drop a file acts so), in a folder only the bridge's account writes. Without a users
 * file nobody is judged, as for every command: the folder's permissions are the boundary.
 */
function inboxActing(io: Io, dir: string, user: Acting, level: Level | undefined): Acting {
  if (!user.actor || !user.level) {
    if (level !== undefined)
      throw new UsageError(
        `--inbox-level ${level} judges nothing without a users file (users.yaml, LEDGERFLOW_USERS): with none, nobody's level is judged (docs/users.md)`,
        { option: '--inbox-level' },
      );
    io.err(
      `bridge: files dropped in ${inert(dir)} act as ${inert(user.name)} (no users file: whoever can write the folder acts so)`,
    );
    return user;
  }
  if (level === undefined)
    throw new UsageError(
      `bridge --inbox: whoever can drop a file in ${dir} acts as ${user.name}; say the most such a file may do with --inbox-level <L0–L3> (its lines are judged at the lower of it and ${user.name}'s ${user.level})`,
      { option: '--inbox-level' },
    );
  refuseOpenInbox(dir, user.name);
  const acting = atMost(user, level);
  io.err(
    `bridge: files dropped in ${inert(dir)} act as ${inert(user.name)} at ${acting.level} (${user.name} is ${user.level}, --inbox-level ${level}); only this account writes the folder`,
  );
  return acting;
}
