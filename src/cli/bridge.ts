/**
 * `ledgerflow bridge` (docs/bridge.md): CMD.BRIDGE lines (one command a line,
 * `@workflow inventory-validation-v1 target_folder=0UT.3OX`) from standard
 * input, a file, or files dropped in an inbox folder, each answered with one
 * line. On the embedded store: a `@workflow` line's run is started and
 * driven by this process, as `start <id>` drives it (`--detach`: recorded
 * for `serve`); `@approve` and `@cancel` are recorded as the bridge's user
 * (`--as`, default $USER), and a run nobody drives is moved on here.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, watch, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BridgeLineError, parseBridgeLine, type BridgeCommand } from '../bridge/index.js';
import { LedgerflowError, RunBusyError, UsageError, errorMessage } from '../errors/index.js';
import { recordInput } from '../executor/index.js';
import type { Engine } from '../local/index.js';
import { commandRunnerFlag } from './command-limit.js';
import { driveFlags, engineFor, handlersFor, recordedHandlers } from './drive.js';
import { EXIT } from './exit.js';
import { defaultActor } from './input-flags.js';
import type { Io } from './io.js';
import { outputFlag } from './output-root.js';
import { findDefinition } from './start-local.js';
import { usesNats, type GlobalOpts } from './store.js';

export interface BridgeOpts { inbox?: string; as?: string; json?: boolean; detach?: boolean; handlers?: string }

/** One line's answer: the text printed (or written to a result file) and the same as JSON. */
interface Answer { ok: boolean; text: string; json: Record<string, unknown> }

/** How often an inbox is looked at besides its watch (which can miss a change). */
const INBOX_POLL_MS = 1000;
/** A file changed more recently than this may still be being written: it is left for a later look. */
const INBOX_SETTLE_MS = 300;

class Bridge {
  private readonly engine: Engine;
  /** Runs started or moved on here, driven in the background until they settle or wait. */
  private readonly driving = new Set<Promise<unknown>>();

  constructor(g: GlobalOpts, private readonly o: BridgeOpts, private readonly warn: (line: string) => void) {
    this.engine = engineFor(g, { writeOutput: outputFlag(undefined), runCommand: commandRunnerFlag(undefined) });
  }

  /** The answer to line `lineNo`; null for a blank or comment line. `callerId`: the run id a `@workflow` line starts (an inbox file's lines are taken once). */
  async answer(text: string, lineNo: number, callerId?: string): Promise<Answer | null> {
    let command: BridgeCommand | null;
    try {
      command = parseBridgeLine(text, lineNo);
    } catch (err) {
      if (!(err instanceof BridgeLineError)) throw err;
      return { ok: false, text: `line ${err.line}:${err.col}: error: ${err.reason}; nothing was done`, json: { line: lineNo, ok: false, error: { code: err.code, message: err.reason, line: err.line, col: err.col } } };
    }
    if (command === null) return null;
    try {
      return await this.act(command, lineNo, callerId);
    } catch (err) {
      const code = err instanceof LedgerflowError ? err.code : 'LF_INTERNAL';
      return { ok: false, text: `line ${lineNo}: error: ${errorMessage(err)}`, json: { line: lineNo, ok: false, command: command.kind, error: { code, message: errorMessage(err) } } };
    }
  }

  private async act(c: BridgeCommand, lineNo: number, callerId?: string): Promise<Answer> {
    const by = this.o.as ?? defaultActor();
    const ok = (text: string, json: Record<string, unknown>): Answer => ({ ok: true, text: `line ${lineNo}: ok: ${text}`, json: { line: lineNo, ok: true, command: c.kind, ...json } });
    if (c.kind === 'status') {
      const v = await this.engine.status(c.runId);
      const waits = Object.entries(v.tasks).filter(([, t]) => t.status === 'PENDING_APPROVAL').map(([id]) => id);
      return ok(`run ${v.runId} ${v.workflowId} v${v.version} ${v.status}${waits.length ? `, waiting for approval of ${waits.join(', ')}` : ''}`, { runId: v.runId, workflowId: v.workflowId, version: v.version, status: v.status });
    }
    if (c.kind === 'approve' || c.kind === 'cancel') {
      const input = c.kind === 'approve'
        ? { kind: 'approval' as const, taskId: c.taskId, decision: 'approved' as const, ...(c.comment !== undefined ? { comment: c.comment } : {}) }
        : { kind: 'control' as const, action: 'cancel' as const };
      const out = await recordInput(this.engine, c.runId, input, { by });
      if (c.kind === 'approve') this.moveOn(c.runId);
      const what = c.kind === 'approve' ? `approved ${c.taskId} for run ${c.runId} as ${by}` : out.changed ? `cancelled run ${c.runId} as ${by}` : `run ${c.runId} is already ${out.status}: nothing to cancel`;
      return ok(`${what}${out.seq !== null ? ` (event ${out.seq})` : ''}${out.status ? `, ${out.status}` : ''}`, { runId: c.runId, by, changed: out.changed, seq: out.seq, status: out.status });
    }
    const loaded = findDefinition(c.ref);
    const { handlers, path } = await handlersFor(this.o.handlers, loaded.handlersPath);
    const start = { inputFromStrings: true, source: { file: loaded.file, ...(path ? { handlers: path } : {}) }, ...(callerId !== undefined ? { runId: callerId } : {}) };
    if (this.o.detach) {
      const s = callerId !== undefined
        ? await this.engine.startRun(loaded.definition, c.inputs, { ...start, runId: callerId })
        : { runId: await this.engine.start(loaded.definition, c.inputs, start), existing: false };
      const status = (await this.engine.status(s.runId)).status;
      return ok(`run ${s.runId} ${s.existing ? 'exists already' : 'started'} (${loaded.definition.id} v${loaded.definition.version}, ${status}${s.existing ? '' : '; `ledgerflow serve` runs it'})`, { runId: s.runId, workflowId: loaded.definition.id, version: loaded.definition.version, status, existing: s.existing });
    }
    // Started and driven here: answered once its start is recorded, driven on in the background.
    let started: (id: string) => void = () => undefined;
    const begun = new Promise<string>((r) => { started = r; });
    const run = this.engine.run(loaded.definition, c.inputs, { ...start, handlers, ...driveFlags({}), onStarted: (id) => started(id) });
    // A start refused (an input the definition does not take) rejects here: the line's answer, nothing recorded.
    const runId = await Promise.race([begun, run.then((v) => v.runId)]);
    this.track(run);
    const now = await Promise.race([run, this.engine.status(runId)]);
    const existing = 'existing' in now && now.existing === true;
    return ok(`run ${runId} ${existing ? 'exists already' : 'started'} (${loaded.definition.id} v${loaded.definition.version}, ${now.status})`, { runId, workflowId: loaded.definition.id, version: loaded.definition.version, status: now.status, existing });
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

export async function bridgeCmd(io: Io, g: GlobalOpts, file: string | undefined, opts: BridgeOpts): Promise<number> {
  if (usesNats(g)) throw new UsageError('bridge runs on the embedded store (--store): over NATS, start deployed workflows with `ledgerflow start --nats`', { option: '--nats' });
  if (file !== undefined && opts.inbox !== undefined) throw new UsageError('bridge reads a file or watches an --inbox folder, not both', { option: '--inbox' });
  const bridge = new Bridge(g, opts, io.err);
  const say = (a: Answer) => io.out(opts.json ? JSON.stringify(a.json) : a.text);
  if (opts.inbox !== undefined) return watchInbox(io, bridge, resolve(opts.inbox), opts);
  let failed = 0;
  let lineNo = 0;
  const lines = file !== undefined ? readFileSync(file, 'utf8').split('\n') : createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const text of lines) {
    lineNo++;
    const a = await bridge.answer(text, lineNo);
    if (!a) continue;
    if (!a.ok) failed++;
    say(a);
  }
  await bridge.settle();
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * An inbox: every file dropped in the folder (not a dot file), once it has not changed for INBOX_SETTLE_MS, is taken once: moved to `.processing/`, its lines
 * answered into `<name>.result`, then the file and its result moved to `done/` (every line ok) or `failed/`.
 * A `@workflow` line starts its run under an id made of the file's content and the line's number, so a file taken
 * again after a crash starts nothing twice. Until SIGINT or SIGTERM.
 */
async function watchInbox(io: Io, bridge: Bridge, dir: string, opts: BridgeOpts): Promise<number> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--inbox ${dir} is not a folder: make it, then drop files of bridge lines in it`, { option: '--inbox', dir });
  const taking = join(dir, '.processing');
  for (const d of [taking, join(dir, 'done'), join(dir, 'failed')]) mkdirSync(d, { recursive: true });
  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = () => { stopped = true; wake(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const watcher = watch(dir, () => wake());
  io.err(`bridge: watching ${dir} for files of lines (answers in done/ and failed/); Ctrl-C stops`);
  try {
    // Files a bridge killed mid-file left behind are taken first (their @workflow lines start nothing twice).
    for (const name of readdirSync(taking)) await takeFile(bridge, dir, join(taking, name), name, opts, io);
    while (!stopped) {
      let settling = false;
      for (const name of readdirSync(dir).sort()) {
        if (stopped) break;
        const path = join(dir, name);
        const st = statSync(path, { throwIfNoEntry: false });
        if (name.startsWith('.') || !st?.isFile()) continue;
        if (Date.now() - st.mtimeMs < INBOX_SETTLE_MS) { settling = true; continue; }
        const claimed = join(taking, name);
        try {
          renameSync(path, claimed);
        } catch {
          continue; // another bridge took it first
        }
        await takeFile(bridge, dir, claimed, name, opts, io);
      }
      await new Promise<void>((r) => { const t = setTimeout(r, settling ? INBOX_SETTLE_MS : INBOX_POLL_MS); wake = () => { clearTimeout(t); r(); }; });
    }
  } finally {
    watcher.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  await bridge.settle();
  return EXIT.ok;
}

async function takeFile(bridge: Bridge, dir: string, claimed: string, name: string, opts: BridgeOpts, io: Io): Promise<void> {
  const content = readFileSync(claimed, 'utf8');
  const digest = createHash('sha256').update(name).update('\0').update(content).digest('hex').slice(0, 20);
  const answers: string[] = [];
  let failed = false;
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const a = await bridge.answer(lines[i]!, i + 1, `bridge-${digest}-${i + 1}`);
    if (!a) continue;
    failed ||= !a.ok;
    answers.push(opts.json ? JSON.stringify(a.json) : a.text);
  }
  const to = join(dir, failed ? 'failed' : 'done');
  // Whole or not at all, as the file it answers: written beside, then moved in (a reader never sees half of it).
  const result = join(to, `${name}.result`);
  writeFileSync(`${result}.part`, answers.length ? `${answers.join('\n')}\n` : '');
  renameSync(`${result}.part`, result);
  renameSync(claimed, join(to, name));
  io.err(`bridge: ${name}: ${answers.length} line${answers.length === 1 ? '' : 's'} answered → ${failed ? 'failed' : 'done'}/${name}.result`);
}
