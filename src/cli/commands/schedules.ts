/**
 * `ledgerflow schedules [--json] [--count n]`: every schedule trigger with its next fire times (UTC and its own zone)
 * and the last slot fired with its run's status. Embedded: the definitions directory and <store>/schedules.json; NATS:
 * the deployed definitions and KV LF_SCHEDULES.
 */
import {
  embeddedScheduleAction,
  loadTriggerCatalog,
  NO_SCHEDULES,
  scheduledDir,
  scheduleRows,
  type ScheduleAction,
  type ScheduleActionResult,
  type ScheduleRow,
} from '../../triggers/index.js';
import { UsageError } from '../../errors/index.js';
import { inert } from '../../terminal/index.js';
import { requireAllowed } from '../../authority/index.js';
import { engineFor } from '../drive.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { defaultActor } from '../flags/input-flags.js';
import { json, type Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import { statusColor } from '../render/render.js';
import { localDir, usesNats, type GlobalOpts } from '../flags/store.js';
import { actingFor, sideFor } from '../runs.js';

export function schedulesText(rows: ScheduleRow[], where: string): string {
  if (rows.length === 0) return `no schedule triggers in ${where}`;
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.workflowId} triggers[${r.trigger}]  ${r.cron}  ${r.timezone}  catch_up ${r.catchUp}`);
    if (r.paused)
      lines.push(
        `  paused since ${r.paused.at}${r.paused.by ? ` by ${inert(r.paused.by)}` : ''}${r.paused.reason ? ` (${inert(r.paused.reason)})` : ''}: no slot fires until \`ledgerflow schedules resume ${r.workflowId}\``,
      );
    for (const n of r.next) lines.push(`  next  ${n.utc}  ${n.local}${r.paused ? '  (paused)' : ''}`);
    if (r.queued > 0)
      lines.push(
        `  queued  ${r.queued} run${r.queued === 1 ? '' : 's'} asked for (trigger, backfill), started on a firer's next tick`,
      );
    lines.push(
      r.last
        ? `  last  ${r.last.slot}  run ${r.last.runId}  ${r.last.status ? statusColor(r.last.status) : '(run not found)'}`
        : `  last  never fired${r.through ? '' : ' (no serve or engine has seen it yet)'}`,
    );
  }
  return lines.join('\n');
}

export async function schedulesCmd(
  io: Io,
  g: GlobalOpts,
  opts: { json?: boolean; count?: string; definitions?: string },
): Promise<number> {
  const { integerFlag } = await import('./cluster.js');
  const count = integerFlag('--count', opts.count, 1) ?? 3;
  const now = Date.now();
  const found = await (await sideFor(g)).schedules(opts.definitions, io.err);
  if (found === null) {
    io.err(NO_SCHEDULES);
    io.out(opts.json ? '[]' : 'no schedules');
    return EXIT.ok;
  }
  const rows = await scheduleRows(found.definitions, found.cursors, found.store, now, count);
  io.out(opts.json ? JSON.stringify(rows, null, 2) : schedulesText(rows, found.where));
  return EXIT.ok;
}

export interface ScheduleActionOpts {
  json?: boolean;
  definitions?: string;
  trigger?: string;
  reason?: string;
  from?: string;
  to?: string;
  wait?: string;
}

/** An ISO time flag (`--from 2026-11-20T00:00:00Z`): exit 2 naming it when it is not one. */
function timeFlag(flag: string, text: string | undefined): number {
  if (text === undefined)
    throw new UsageError(`${flag} is required: an ISO time such as 2026-11-20T00:00:00Z`, { flag });
  const ms = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a time: give an ISO time such as 2026-11-20T00:00:00Z`,
      { flag },
    );
  return ms;
}

/** What an action did, for people. */
export function scheduleActionText(r: ScheduleActionResult): string {
  const lines: string[] = [];
  for (const s of r.schedules ?? []) {
    const what = s.paused
      ? `paused${s.changed ? '' : ' already'} since ${s.paused.at}${s.paused.by ? ` by ${inert(s.paused.by)}` : ''}${s.paused.reason ? ` (${inert(s.paused.reason)})` : ''}`
      : s.changed
        ? 'resumed: its next slot fires (the slots of the pause are missed slots: catch_up decides them)'
        : 'not paused';
    lines.push(`schedule ${inert(s.workflowId)} triggers[${s.trigger}]: ${what}`);
  }
  const queued = r.queued ?? [];
  if (r.action === 'trigger') {
    const q = queued[0]!;
    lines.push(
      `${r.started ? 'started' : 'queued'} run ${q.runId} of ${inert(r.workflowId)} (manual slot ${q.slot} of triggers[${q.trigger}])${r.started ? '' : ': a firer (serve, an engine) starts it on its next tick'}`,
    );
  }
  if (r.action === 'backfill') {
    const started = r.started ?? 0;
    lines.push(
      `backfill ${inert(r.workflowId)}: ${started} run${started === 1 ? '' : 's'} started${queued.length > started ? `, ${queued.length - started} queued for a firer's next tick` : ''}; ${r.existing ?? 0} slot${r.existing === 1 ? '' : 's'} had a run already` +
        `${r.ahead ? `; ${r.ahead} slot${r.ahead === 1 ? ' is' : 's are'} not due yet (the schedule fires ${r.ahead === 1 ? 'it' : 'them'}, catch_up deciding)` : ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * `ledgerflow schedules pause|resume|trigger|backfill <workflow>`: a person's hand on a workflow's schedules
 * (docs/operations.md#schedules), held in the schedule cursor. Needs L1 (`schedules`) with a users file.
 */
export async function scheduleActionCmd(
  io: Io,
  g: GlobalOpts,
  action: ScheduleAction['action'],
  workflowId: string,
  opts: ScheduleActionOpts,
): Promise<number> {
  const { integerFlag } = await import('./cluster.js');
  const trigger = integerFlag('--trigger', opts.trigger, 0);
  const range = action === 'backfill' ? { from: timeFlag('--from', opts.from), to: timeFlag('--to', opts.to) } : null;
  const waitMs = optionalDurationFlag('--wait', opts.wait, '10s or 0') ?? 10_000;
  // Who acts: with a users file, an L1 (`schedules`), judged before anything is written; who paused is recorded.
  const acting = await actingFor(g, undefined);
  requireAllowed(acting.actor, 'schedules');
  const by = acting.name ?? (process.env.LEDGERFLOW_USER || defaultActor());
  const asked = {
    workflowId,
    action,
    ...(trigger !== undefined ? { trigger } : {}),
    ...(action === 'pause' ? { by, ...(opts.reason ? { reason: opts.reason } : {}) } : {}),
    ...(range ?? {}),
  } as ScheduleAction;
  const progress = process.stderr.isTTY && !opts.json;
  let result: ScheduleActionResult;
  // The stores differ in what happens: over NATS the cursor is written as the connection's user and the engines
  // start what is queued on their next tick (waited for here); here the runs are started at once and said undriven.
  if (usesNats(g)) {
    const { withClient } = await import('./cluster.js');
    result = await withClient(g, async (c) => {
      const hasRun = async (id: string) => (await c.store.lastSeq(id)) > 0;
      const r = await c.schedules(asked);
      // The engines start what was queued on their next tick: wait for it (a while), counting on a terminal.
      const queued = r.queued ?? [];
      if (queued.length === 0 || waitMs === 0) return r;
      const deadline = Date.now() + waitMs;
      let started = r.started ?? 0;
      const left = new Set(queued.map((q) => q.runId));
      for (;;) {
        for (const id of [...left]) if (await hasRun(id)) left.delete(id);
        started = queued.length - left.size;
        if (progress) process.stderr.write(`\r${action}: ${started}/${queued.length} started`);
        if (left.size === 0 || Date.now() >= deadline) break;
        await new Promise((res) => setTimeout(res, 250));
      }
      if (progress) process.stderr.write('\n');
      return { ...r, started };
    });
  } else {
    // The schedules `serve` fires, and no others: a bundled definition's schedule is not one in a folder of yours.
    const dir = scheduledDir(opts.definitions);
    if (dir === null)
      throw new UsageError(`schedules ${action} ${workflowId}: ${NO_SCHEDULES.replace(/^schedules: /, '')}`, {
        workflow: workflowId,
      });
    const catalog = loadTriggerCatalog({ definitionsDir: dir });
    for (const skipped of catalog.skipped) io.err(`skipped ${skipped.reason}`);
    let n = 0;
    // Started here at once (recorded; serve drives what does not settle as it starts), not on serve's next tick.
    result = await embeddedScheduleAction(
      {
        storeDir: localDir(g),
        engine: engineFor(g),
        definitions: catalog.loaded,
        ...(progress && action === 'backfill'
          ? {
              started: (id: string) => {
                n++;
                process.stderr.write(`\r${action}: ${n} run${n === 1 ? '' : 's'} started (${id})`);
              },
            }
          : {}),
      },
      asked,
    );
    if (n > 0) process.stderr.write('\n');
    // Recorded here, driven by no one unless a serve holds the store: said, with what would drive them.
    const first = result.queued?.[0]?.runId;
    if ((action === 'trigger' || action === 'backfill') && first !== undefined && result.started) {
      const { runDriver } = await import('../../service/index.js');
      if ((await runDriver(localDir(g), first)) === null)
        io.err(
          `no process drives ${action === 'trigger' ? 'it' : 'them'}: \`ledgerflow serve\` on this store does${action === 'trigger' ? `, or \`ledgerflow resume ${first}\`` : ''}`,
        );
    }
  }
  io.out(opts.json ? json(result) : scheduleActionText(result));
  return EXIT.ok;
}
