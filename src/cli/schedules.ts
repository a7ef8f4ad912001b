/**
 * `ledgerflow schedules [--json] [--count n]`: every schedule trigger with
 * its next fire times (UTC and its own zone) and the last slot fired with its
 * run's status. Embedded: the definitions directory and <store>/schedules.json;
 * NATS: the deployed definitions and KV LF_SCHEDULES.
 */
import { natsSettings } from '../cluster/index.js';
import { FileScheduleCursor, loadTriggerCatalog, scheduleCursorFile, scheduleRows, type ScheduleRow } from '../triggers/index.js';
import type { Io } from './io.js';
import { EXIT } from './exit.js';
import { statusColor } from './render.js';
import { storeFor } from './open-store.js';
import { localDir, usesNats, type GlobalOpts } from './store.js';
import { jetstream } from '../store/index.js';

export function schedulesText(rows: ScheduleRow[], where: string): string {
  if (rows.length === 0) return `no schedule triggers in ${where}`;
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.workflowId} triggers[${r.trigger}]  ${r.cron}  ${r.timezone}  catch_up ${r.catchUp}`);
    for (const n of r.next) lines.push(`  next  ${n.utc}  ${n.local}`);
    lines.push(r.last
      ? `  last  ${r.last.slot}  run ${r.last.runId}  ${r.last.status ? statusColor(r.last.status) : '(run not found)'}`
      : `  last  never fired${r.through ? '' : ' (no serve or engine has seen it yet)'}`);
  }
  return lines.join('\n');
}

export async function schedulesCmd(io: Io, g: GlobalOpts, opts: { json?: boolean; count?: string; definitions?: string }): Promise<number> {
  const { integerFlag } = await import('./cluster.js');
  const count = integerFlag('--count', opts.count, 1) ?? 3;
  const now = Date.now();
  let rows: ScheduleRow[];
  let where: string;
  if (usesNats(g)) {
    const { withClient } = await import('./cluster.js');
    const { KvScheduleCursor } = await import('../cluster/index.js');
    rows = await withClient(g, async (c) => {
      const nc = await c.store.connection();
      // The bucket is made on first use: with the replica and storage settings an engine would give it, so `doctor` finds no difference.
      const { replicas, storage } = natsSettings().cluster;
      const cursor = new KvScheduleCursor(jetstream(nc), { ...(replicas ? { replicas } : {}), ...(storage ? { storage } : {}) });
      return scheduleRows(await c.deployed(), await cursor.all(), c.store, now, count);
    });
    where = 'the deployed definitions';
  } else {
    const catalog = loadTriggerCatalog({ ...(opts.definitions ? { definitionsDir: opts.definitions } : {}) });
    for (const skipped of catalog.skipped) io.err(`skipped ${skipped.reason}`);
    const cursors = await new FileScheduleCursor(scheduleCursorFile(localDir(g))).all();
    rows = await scheduleRows(catalog.definitions, cursors, storeFor(g), now, count);
    where = catalog.definitionsDir;
  }
  io.out(opts.json ? JSON.stringify(rows, null, 2) : schedulesText(rows, where));
  return EXIT.ok;
}
