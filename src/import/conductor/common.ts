/** Fields every imported task may carry: retries, timeouts, optional, description, from Conductor's task and its taskDefinition. */
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';

const BACKOFF: Record<string, string> = {
  FIXED: 'fixed',
  EXPONENTIAL_BACKOFF: 'exponential',
  LINEAR_BACKOFF: 'linear',
};
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Retry and timeout settings (tasks with attempts only: SIMPLE, HTTP, SUB_WORKFLOW). */
export function attemptSettings(t: ConductorTask, ctx: Ctx): LfTask {
  const def = t.taskDefinition ?? {};
  const out: LfTask = {};
  const retries = num(t.retryCount) ?? num(def.retryCount);
  if (retries !== undefined && retries > 0) {
    const policy: Record<string, unknown> = { max_attempts: Math.min(retries + 1, 1000) };
    const logic = typeof def.retryLogic === 'string' ? BACKOFF[def.retryLogic] : undefined;
    if (logic !== undefined) policy.backoff = logic;
    const delay = num(def.retryDelaySeconds);
    if (delay !== undefined && delay > 0) policy.initial_delay = `${delay}s`;
    if (num(def.backoffScaleFactor) !== undefined && def.backoffScaleFactor !== 1)
      ctx.note(
        t,
        `backoffScaleFactor ${String(def.backoffScaleFactor)} has no equivalent: ledgerflow's linear and exponential backoff start from initial_delay`,
      );
    out.retry_policy = policy;
  }
  const timeout = num(def.timeoutSeconds);
  if (timeout !== undefined && timeout > 0) out.timeout = `${timeout}s`;
  const response = num(def.responseTimeoutSeconds);
  if (response !== undefined && response > 0 && timeout === undefined) out.timeout = `${response}s`;
  else if (response !== undefined && response > 0 && response !== timeout)
    ctx.note(
      t,
      `responseTimeoutSeconds ${response} dropped: ledgerflow has one timeout per attempt (timeoutSeconds ${timeout})`,
    );
  if (def.timeoutPolicy === 'ALERT_ONLY')
    ctx.note(
      t,
      'timeoutPolicy ALERT_ONLY: in ledgerflow a timed-out attempt fails (and is retried while attempts remain)',
    );
  return out;
}

/** Settings that apply to any task. */
export function commonSettings(t: ConductorTask, ctx: Ctx): LfTask {
  const out: LfTask = {};
  if (t.optional === true) out.optional = true;
  if ((t.startDelay ?? 0) > 0)
    ctx.note(t, `startDelay ${t.startDelay}s dropped (put a WAIT before the task for the same effect)`);
  return out;
}

/** `"10 seconds"`, `"1 days 2 hours"`, `"5m"`: Conductor's WAIT duration as a ledgerflow duration, or null. */
export function waitDuration(text: string): string | null {
  const units: Record<string, string> = {
    s: 's',
    sec: 's',
    secs: 's',
    second: 's',
    seconds: 's',
    m: 'm',
    min: 'm',
    mins: 'm',
    minute: 'm',
    minutes: 'm',
    h: 'h',
    hr: 'h',
    hrs: 'h',
    hour: 'h',
    hours: 'h',
    d: 'd',
    day: 'd',
    days: 'd',
  };
  const parts = [...text.trim().matchAll(/(\d+)\s*([A-Za-z]+)/g)];
  if (
    parts.length === 0 ||
    parts
      .map((p) => p[0])
      .join('')
      .replace(/\s/g, '') !== text.replace(/\s/g, '')
  )
    return null;
  let out = '';
  for (const p of parts) {
    const u = units[p[2]!.toLowerCase()];
    if (u === undefined) return null;
    out += `${p[1]}${u}`;
  }
  return out;
}
