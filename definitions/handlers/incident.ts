/**
 * Handlers of the incident response workflow (definitions/incident-response.yaml,
 * incident response). Real work on the event's figures and on local files
 * (the on-call roster, the service's log), deterministic: no clock (times come
 * from the event, the log and the acknowledgement), no randomness, so a re-run
 * of an attempt gives the same output and the report means something.
 *
 *   triage           severity (critical | high | low) from the event's figures
 *                    and the roster's customer_facing flag, with the reasons
 *   collect_evidence the service's log: lines per level, first and last error,
 *                    error signatures (numbers masked) by count
 *   notify           the page / alert / log entry for the severity's channel
 *   freeze_deploys   a deploy freeze record for the service (critical only)
 *   escalate         after the wait: nobody acknowledged in time (the wait was
 *                    skipped) on a paged incident → the secondary and the manager
 *   postmortem       timeline, time to acknowledge, probable cause, actions
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NonRetryableError, parseYaml as parse } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

interface Responders { team: string; primary: string; secondary: string; manager: string; customer_facing: boolean }
interface Evidence { found: boolean; lines: number; levels: Record<string, number>; first_error: string | null; last_error: string | null; error_window_s: number | null; signatures: { signature: string; count: number }[] }

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'INCIDENT_BAD_INPUT');
  return v;
}

function num(input: Record<string, unknown>, name: string): number {
  const v = input[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new NonRetryableError(`${name} must be a non-negative number, got ${JSON.stringify(v)}`, 'INCIDENT_BAD_INPUT');
  return v;
}

/** The roster's entry for a service (or its `default`). */
export async function responders(rosterFile: string, service: string): Promise<Responders> {
  let roster: { services?: Record<string, Partial<Responders>>; default?: Partial<Responders> };
  try {
    roster = (parse(await readFile(rosterFile, 'utf8')) ?? {}) as typeof roster;
  } catch (err) {
    throw new NonRetryableError(`cannot read the on-call roster ${rosterFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'INCIDENT_NO_ROSTER');
  }
  const entry = { ...(roster.default ?? {}), ...(roster.services?.[service] ?? {}) };
  for (const k of ['team', 'primary', 'secondary', 'manager'] as const) {
    if (typeof entry[k] !== 'string') throw new NonRetryableError(`the roster ${rosterFile} names no ${k} for ${service} and has no default`, 'INCIDENT_NO_ROSTER');
  }
  return { ...(entry as Responders), customer_facing: entry.customer_facing === true };
}

const seconds = (a: string, b: string): number => Math.round((Date.parse(b) - Date.parse(a)) / 1000);

export const handlers: Handlers = {
  async triage(input, ctx) {
    const service = text(input, 'service');
    const errorRate = num(input, 'error_rate_pct');
    const latency = num(input, 'latency_p99_ms');
    const users = num(input, 'affected_users');
    const who = await responders(text(input, 'roster'), service);
    const reasons: string[] = [];
    let score = 0;
    const add = (points: number, why: string) => { score += points; reasons.push(`+${points} ${why}`); };
    if (errorRate >= 25) add(40, `error rate ${errorRate}% ≥ 25%`);
    else if (errorRate >= 5) add(25, `error rate ${errorRate}% ≥ 5%`);
    else if (errorRate >= 1) add(10, `error rate ${errorRate}% ≥ 1%`);
    if (latency >= 5000) add(20, `p99 latency ${latency} ms ≥ 5000 ms`);
    else if (latency >= 2000) add(10, `p99 latency ${latency} ms ≥ 2000 ms`);
    if (users >= 1000) add(30, `${users} users affected ≥ 1000`);
    else if (users >= 100) add(20, `${users} users affected ≥ 100`);
    else if (users >= 1) add(5, `${users} users affected`);
    if (who.customer_facing) add(10, `${service} is customer facing`);
    // Lost data is critical whatever the other figures say.
    const dataLoss = input.data_loss === true;
    if (dataLoss) reasons.push('data loss reported: critical');
    const severity = dataLoss || score >= 70 ? 'critical' : score >= 40 ? 'high' : 'low';
    ctx.log(`${service}: score ${score} → ${severity}`);
    return { severity, score, reasons, team: who.team, responder: who.primary, customer_facing: who.customer_facing };
  },

  async collect_evidence(input): Promise<Evidence> {
    const file = join(text(input, 'logs'), `${text(input, 'service')}.log`);
    let body: string;
    try {
      body = await readFile(file, 'utf8');
    } catch (err) {
      // No log is evidence too (the service may not log locally): say so, do not fail the response.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: false, lines: 0, levels: {}, first_error: null, last_error: null, error_window_s: null, signatures: [] };
      throw err;
    }
    const levels: Record<string, number> = {};
    const signatures = new Map<string, number>();
    let first: string | null = null;
    let last: string | null = null;
    let lines = 0;
    for (const line of body.split(/\r?\n/)) {
      const m = /^(\S+)\s+([A-Z]+)\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      lines++;
      const [, at, level, message] = m as unknown as [string, string, string, string];
      levels[level] = (levels[level] ?? 0) + 1;
      if (level === 'ERROR') {
        first ??= at;
        last = at;
        // The same error with other ids and durations is one signature.
        const sig = message.replace(/\d+/g, 'N');
        signatures.set(sig, (signatures.get(sig) ?? 0) + 1);
      }
    }
    return {
      found: true,
      lines,
      levels,
      first_error: first,
      last_error: last,
      error_window_s: first && last ? seconds(first, last) : null,
      signatures: [...signatures].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([signature, count]) => ({ signature, count })),
    };
  },

  notify(input, ctx) {
    const channel = text(input, 'channel');
    const triage = (input.triage ?? {}) as { severity?: string; score?: number; responder?: string; team?: string; reasons?: string[] };
    const to = channel === 'log' ? null : triage.responder ?? null;
    return {
      channel,
      to,
      team: triage.team ?? null,
      subject: `[${String(triage.severity ?? 'unknown').toUpperCase()}] ${String(input.service)}: ${String(input.title)} (${String(input.incident_id)})`,
      body: [`score ${triage.score ?? '?'}`, ...(triage.reasons ?? [])].join('; '),
      acknowledge_with: channel === 'log' ? null : `ledgerflow signal ${ctx.runId} incident_acknowledged --data '{"by":"${to ?? '<name>'}","at":"<ISO time>"}'`,
    };
  },

  freeze_deploys(input) {
    return {
      service: text(input, 'service'),
      frozen: true,
      since: text(input, 'reported_at'),
      reason: `critical incident ${text(input, 'incident_id')}`,
      lifted_by: 'the postmortem',
    };
  },

  async escalate(input, ctx) {
    const service = text(input, 'service');
    const severity = String(input.severity);
    // The WAIT completed: someone acknowledged. Skipped: it timed out, or (low) nobody was paged.
    if (input.ack_status === 'COMPLETED') {
      const by = (input.ack as { by?: unknown } | null)?.by;
      return { escalated: false, escalated_to: [], missed_by: null, reason: `acknowledged by ${typeof by === 'string' ? by : 'someone'}` };
    }
    if (severity !== 'critical' && severity !== 'high') return { escalated: false, escalated_to: [], missed_by: null, reason: `${severity} incident: logged, nobody paged` };
    const who = await responders(text(input, 'roster'), service);
    const to = [...new Set([who.secondary, who.manager])];
    ctx.log(`${service}: nobody acknowledged, escalating to ${to.join(', ')}`);
    return { escalated: true, escalated_to: to, missed_by: who.primary, reason: `no acknowledgement of ${String(input.incident_id)} within the wait` };
  },

  postmortem(input) {
    const incident = (input.incident ?? {}) as Record<string, unknown>;
    const triage = (input.triage ?? {}) as { severity?: string; score?: number; reasons?: string[] };
    const evidence = (input.evidence ?? {}) as Partial<Evidence>;
    const ack = (input.ack ?? null) as { by?: unknown; at?: unknown; note?: unknown } | null;
    const escalation = (input.escalation ?? null) as { escalated?: boolean; escalated_to?: string[] } | null;
    const reportedAt = typeof incident.reported_at === 'string' ? incident.reported_at : null;
    const ackAt = typeof ack?.at === 'string' && !Number.isNaN(Date.parse(ack.at)) ? ack.at : null;

    const timeline: { at: string; what: string }[] = [];
    if (evidence.first_error) timeline.push({ at: evidence.first_error, what: 'first error in the service log' });
    if (reportedAt) timeline.push({ at: reportedAt, what: `reported: ${String(incident.title ?? '')}`.trim() });
    if (evidence.last_error) timeline.push({ at: evidence.last_error, what: 'last error in the service log' });
    if (ackAt) timeline.push({ at: ackAt, what: `acknowledged by ${String(ack?.by ?? 'someone')}` });
    timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.what.localeCompare(b.what));

    const top = evidence.signatures?.[0]?.signature ?? null;
    const actions: string[] = [];
    const sigs = (evidence.signatures ?? []).map((s) => s.signature.toLowerCase());
    if (sigs.some((s) => s.includes('timeout'))) actions.push('add a circuit breaker and a shorter client timeout in front of the slow dependency');
    if (sigs.some((s) => s.includes('pool exhausted'))) actions.push('cap concurrent requests below the connection pool size and alert on pool saturation');
    if (sigs.some((s) => s.includes('disk'))) actions.push('alert on disk watermarks before the index stops refreshing');
    if (escalation?.escalated === true) actions.push('review the on-call rota: nobody acknowledged before escalation');
    if (actions.length === 0) actions.push('no automatic finding: review the log by hand');

    return {
      incident_id: incident.incident_id ?? null,
      service: incident.service ?? null,
      reported_by: typeof incident.reporter === 'string' ? incident.reporter : null,
      severity: triage.severity ?? null,
      score: triage.score ?? null,
      acknowledged_by: typeof ack?.by === 'string' ? ack.by : null,
      minutes_to_acknowledge: reportedAt && ackAt ? Math.round(seconds(reportedAt, ackAt) / 6) / 10 : null,
      escalated_to: escalation?.escalated_to ?? [],
      deploys_frozen: input.freeze !== null && input.freeze !== undefined,
      probable_cause: top,
      errors: evidence.levels?.ERROR ?? 0,
      timeline,
      actions,
    };
  },
};

export default handlers;
