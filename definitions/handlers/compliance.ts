/**
 * Handlers of the compliance alerts workflow (definitions/compliance_alerts.yaml).
 * Deterministic: deadlines count from the alert's time, never the clock.
 *
 *   classify_alert      severity (normalised), response deadline by severity, owner
 *   pause_affected_run  records run.paused in the affected run's log through the
 *                       library API on the embedded store (Engine.pause): the
 *                       `store_dir` input, else the store of the process running
 *                       it (the CLI sets LEDGERFLOW_STORE to its --store); a run
 *                       paused already counts as paused, so a re-run is harmless
 *   raise_alert         the alert record (written by the task's output_to)
 *   log_alert           one line per run appended to the compliance log
 *
 * Over NATS the pause belongs to `ledgerflow pause --nats …` (a COMMAND task
 * once those exist): this handler speaks to the embedded store only.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Engine, NonRetryableError, openStore } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

const SEVERITIES = ['critical', 'high', 'low'] as const;
/** Hours to respond, and who owns the response. */
const SLA: Record<(typeof SEVERITIES)[number], { hours: number; owner: string }> = {
  critical: { hours: 1, owner: 'commander' },
  high: { hours: 24, owner: 'compliance-desk' },
  low: { hours: 168, owner: 'compliance-desk' },
};

function addHours(iso: string, hours: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new NonRetryableError(`detected_at must be an ISO date-time, got ${JSON.stringify(iso)}`, 'BAD_ALERT');
  return new Date(t + hours * 3_600_000).toISOString();
}

const handlers: Handlers = {
  classify_alert(input, ctx) {
    const severity = String(input.severity ?? '').trim().toLowerCase();
    if (!(SEVERITIES as readonly string[]).includes(severity)) {
      throw new NonRetryableError(`severity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(input.severity)}`, 'BAD_ALERT');
    }
    const sla = SLA[severity as (typeof SEVERITIES)[number]];
    if (severity === 'critical' && !input.affected_run) ctx.log('critical alert naming no run: there will be nothing to pause');
    return { severity, sla_hours: sla.hours, owner: sla.owner, response_due: addHours(String(input.detected_at), sla.hours) };
  },

  async pause_affected_run(input, ctx) {
    const runId = String(input.affected_run ?? '');
    const approval = (input.approval ?? {}) as { by?: string; comment?: string | null };
    const base = { alert_id: input.alert_id, rule: input.rule, summary: input.summary, affected_run: runId || null, approved_by: approval.by ?? null, action: 'pause' };
    if (!runId) return { ...base, paused: false, run_status: null, record: 'the alert names no run; nothing to pause' };
    const storeDir = String(input.store_dir || process.env.LEDGERFLOW_STORE || '.ledgerflow');
    const store = openStore({ dir: storeDir, nats: false });
    try {
      const engine = new Engine({ store });
      try {
        const view = await engine.commits.pause(runId, { by: `compliance_alerts/${ctx.runId}`, reason: `compliance alert ${String(input.alert_id)} (${String(input.rule)}): ${String(input.summary)}` });
        ctx.log(`run ${runId} paused`);
        return { ...base, paused: true, run_status: view.status, record: `run ${runId} paused in ${storeDir}` };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'LF_RUN_NOT_FOUND') throw new NonRetryableError(`run ${runId} named by alert ${String(input.alert_id)} is not in the store ${storeDir}`, 'AFFECTED_RUN_NOT_FOUND');
        if (code !== 'LF_PAUSE_REFUSED') throw err;
        // Refused: paused already (by an earlier attempt of this task, or by someone) or settled. Either way nothing more to do.
        const status = String((err as { meta?: { status?: string } }).meta?.status ?? 'unknown');
        ctx.log(`run ${runId} is ${status}: not paused again`);
        return { ...base, paused: status === 'PAUSED', run_status: status, record: `run ${runId} was ${status}; nothing recorded` };
      }
    } finally {
      await store.close();
    }
  },

  raise_alert(input, ctx) {
    const c = (input.classification ?? {}) as { severity?: string; owner?: string; response_due?: string };
    const record = `compliance/alerts/${String(input.alert_id)}.yaml`;
    ctx.log(`alert ${String(input.alert_id)} for ${c.owner ?? 'compliance-desk'}, respond by ${c.response_due ?? '?'}`);
    return {
      alert_id: input.alert_id, severity: c.severity ?? 'high', rule: input.rule, summary: input.summary,
      affected_run: input.affected_run || null, affected_workflow: input.affected_workflow || null, source: input.source || null,
      owner: c.owner ?? 'compliance-desk', response_due: c.response_due ?? null, source_event: input.event_id || null, run_id: ctx.runId, record,
    };
  },

  async log_alert(input, ctx) {
    const file = String(input.log_file || 'compliance/compliance.log');
    const marker = `[run ${ctx.runId}]`;
    const line = `${String(input.detected_at)} ${String(input.severity).toUpperCase()} ${String(input.rule)} ${String(input.alert_id)}: ${String(input.summary).replace(/\s+/g, ' ')} ${marker}`;
    const existing = await readFile(file, 'utf8').catch(() => '');
    // One line per run: a re-run of the attempt after a crash finds its line there.
    if (!existing.split('\n').some((l) => l.endsWith(marker))) {
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, `${line}\n`);
    }
    return { log_file: file, line };
  },
};

export default handlers;
