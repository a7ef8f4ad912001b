/**
 * `ledgerflow triggers [--workflow id] [--limit n] [--json]`: what debounced and throttled event triggers hold now
 * (open bursts, queues) and their decision log (started, queued, merged, dropped), oldest first. Embedded:
 * <store>/triggers/; NATS: KV LF_TRIGGER_GATES and stream LF_TRIGGER_LOG. `--json` prints { waiting, decisions } on
 * both.
 */
import { TriggerGates, type GateLog, type GateRecord, type GateStore, type GateWaiting } from '../../triggers/index.js';
import type { Definition } from '../../definition/index.js';
import { inert } from '../../terminal/index.js';
import type { Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';

export function triggersText(waiting: GateWaiting[], decisions: GateRecord[]): string {
  const lines: string[] = [];
  const key = (k: string) => (k ? ` key ${inert(JSON.stringify(k))}` : '');
  lines.push(waiting.length ? 'waiting:' : 'waiting: nothing (no open burst, no queued event)');
  for (const w of waiting) {
    lines.push(
      w.kind === 'debounce'
        ? `  ${w.workflowId} triggers[${w.trigger}] debounce${key(w.key)}: ${w.events} event(s), last ${inert(w.lastEvent ?? '?')}; starts ${w.dueAt ?? 'now'} if no other comes`
        : `  ${w.workflowId} triggers[${w.trigger}] throttle${key(w.key)}: ${w.events} queued, next ${inert(w.nextEvent ?? '?')} at ${w.dueAt ?? 'now'}`,
    );
    if (w.starting.length) lines.push(`    starting ${w.starting.join(', ')}`);
  }
  lines.push(decisions.length ? 'decisions (oldest first):' : 'decisions: none yet');
  for (const d of decisions) {
    const what =
      d.decision === 'started'
        ? `started run ${d.runId}${d.count && d.count > 1 ? ` (last of ${d.count} events${d.absorbed?.length ? `; merged ${d.absorbed.map(inert).join(', ')}` : ''})` : ''}`
        : d.decision === 'merged'
          ? `merged into run ${d.runId}`
          : d.decision === 'dropped'
            ? `dropped: ${inert(d.reason ?? '')}`
            : d.decision;
    lines.push(
      `  ${d.time}  ${d.workflowId} triggers[${d.trigger}] ${d.kind}${key(d.key)}  event ${inert(d.eventId)} ${what}`,
    );
  }
  return lines.join('\n');
}

async function view(
  store: GateStore,
  log: GateLog,
  definitions: readonly Definition[],
  opts: { workflow?: string; limit: number },
) {
  // Read only: the start callback is never called by waiting().
  const gates = new TriggerGates({
    store,
    log,
    now: Date.now,
    definitions: () => definitions,
    start: async () => ({ duplicate: true }),
  });
  const waiting = (await gates.waiting()).filter((w) => opts.workflow === undefined || w.workflowId === opts.workflow);
  const decisions = await log.list({
    ...(opts.workflow !== undefined ? { workflowId: opts.workflow } : {}),
    limit: opts.limit,
  });
  return { waiting, decisions };
}

export async function triggersCmd(
  io: Io,
  g: GlobalOpts,
  opts: { json?: boolean; workflow?: string; limit?: string; definitions?: string },
): Promise<number> {
  const { integerFlag } = await import('./cluster.js');
  const limit = integerFlag('--limit', opts.limit, 1) ?? 50;
  const o = { ...(opts.workflow !== undefined ? { workflow: opts.workflow } : {}), limit };
  const side = await sideFor(g);
  const { store, log } = await side.gates();
  const result = await view(store, log, await side.definitions(opts.definitions, io.err), o);
  io.out(opts.json ? JSON.stringify(result, null, 2) : triggersText(result.waiting, result.decisions));
  return EXIT.ok;
}
