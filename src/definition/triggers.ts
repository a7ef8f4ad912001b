/**
 * Trigger checks that need the declared inputs: a trigger builds a run's whole input, so every key it maps must be a
 * declared input and every required input without a default must be mapped, or each run it starts would be refused.
 * Template problems inside triggers are templates.ts's.
 */
import { ExpressionError } from '../errors/index.js';
import { findRefs } from '../expressions/index.js';
import type { CheckContext } from './context.js';
import { cronProblem, isTimeZone, knownTimeZones } from './cron.js';
import { didYouMean, isObj } from './issues.js';
import { EVENT_TYPE_PATTERN } from './types.js';

export function checkTriggers(ctx: CheckContext): void {
  const raw = ctx.wf.triggers;
  if (!Array.isArray(raw)) return;
  const declared = ctx.def.inputs.map((i) => i.name);
  const firstOfEvent = new Map<string, number>();
  raw.forEach((tr, i) => {
    if (!isObj(tr)) return;
    const p = ['workflow', 'triggers', i];
    if (typeof tr.event === 'string') {
      if (!EVENT_TYPE_PATTERN.test(tr.event) || tr.event.length > 128) {
        ctx.error(
          'LF_TRIGGER_EVENT_NAME',
          `event type "${tr.event}" of triggers[${i}] must be letters, digits, _ and - in dot-separated parts (it names events/<type>.yaml and a NATS subject)`,
          [...p, 'event'],
        );
      }
      const first = firstOfEvent.get(tr.event);
      if (first !== undefined) {
        ctx.warn(
          'LF_TRIGGER_SAME_EVENT',
          `triggers[${i}] and triggers[${first}] both listen to "${tr.event}"; one event starts at most one run of a workflow, so only the first whose filter holds is used`,
          [...p, 'event'],
        );
      } else firstOfEvent.set(tr.event, i);
    }
    if (tr.event === undefined) checkSchedule(ctx, tr, p);
    checkGates(ctx, tr, p);
    const input = isObj(tr.input) ? tr.input : {};
    for (const key of Object.keys(input)) {
      if (declared.includes(key)) continue;
      const list = declared.length ? declared.join(', ') : '(none)';
      ctx.error(
        'LF_TRIGGER_UNKNOWN_INPUT',
        `triggers[${i}] maps input "${key}", which the workflow does not declare; declared inputs: ${list}${didYouMean(key, declared)}`,
        [...p, 'input', key],
        { onKey: true },
      );
    }
    const missing = ctx.def.inputs
      .filter((d) => d.required && d.default === undefined && !Object.hasOwn(input, d.name))
      .map((d) => d.name);
    if (missing.length > 0) {
      const example = tr.event !== undefined ? `\${event.data.${missing[0]}}` : '<value>';
      ctx.error(
        'LF_TRIGGER_MISSING_INPUT',
        `triggers[${i}] does not map required input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, so every run it starts would be refused; add e.g. input: { ${missing[0]}: "${example}" }`,
        isObj(tr.input) ? [...p, 'input'] : p,
        { onKey: true },
      );
    }
  });
}

/**
 * A schedule trigger's cron must parse (croner's reason, at the expression) and its zone must be one Intl knows (at
 * `timezone`, with a did-you-mean). A schedule with both `schedule` and `cron` (an alias) is a conflict.
 */
function checkSchedule(ctx: CheckContext, tr: Record<string, unknown>, p: (string | number)[]): void {
  const key = typeof tr.schedule === 'string' ? 'schedule' : 'cron';
  const expr = tr[key];
  if (typeof tr.schedule === 'string' && typeof tr.cron === 'string' && tr.schedule !== tr.cron) {
    ctx.error(
      'LF_CONFLICT',
      `triggers[${p[2]}] sets both schedule and cron (an alias) to different values; keep one`,
      [...p, 'cron'],
      { onKey: true },
    );
  }
  if (typeof expr === 'string') {
    const problem = cronProblem(expr);
    if (problem !== null) {
      ctx.error(
        'LF_SCHEDULE_INVALID',
        `${key} "${expr}" of triggers[${p[2]}] is not a cron expression: ${problem}; write 5 fields (minute hour day-of-month month day-of-week, e.g. "0 9 * * *"), 6 with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly`,
        [...p, key],
      );
    }
  }
  if (typeof tr.timezone === 'string' && !isTimeZone(tr.timezone)) {
    const hint = didYouMean(tr.timezone, knownTimeZones());
    ctx.error(
      'LF_SCHEDULE_TIMEZONE',
      `timezone "${tr.timezone}" of triggers[${p[2]}] is not a time zone this runtime knows; use an IANA name such as Europe/Berlin, America/New_York or UTC${hint}`,
      [...p, 'timezone'],
    );
  }
}

/**
 * `debounce` and `throttle` (docs/triggers.md#debounce-and-throttle) group events, so they belong to event triggers,
 * one of the two, and their `key` reads only the event: `${workflow.runId}` differs per event, and inputs or tasks do
 * not exist yet.
 */
function checkGates(ctx: CheckContext, tr: Record<string, unknown>, p: (string | number)[]): void {
  const present = (['debounce', 'throttle'] as const).filter((k) => tr[k] !== undefined);
  if (present.length === 0) return;
  if (tr.event === undefined) {
    for (const k of present) {
      ctx.error(
        'LF_TRIGGER_GATE_ON_SCHEDULE',
        `${k} of triggers[${p[2]}] applies to event triggers only: a schedule starts one run per slot already; remove ${k}, or choose the schedule (cron) so it fires as often as you want`,
        [...p, k],
        { onKey: true },
      );
    }
    return;
  }
  if (present.length === 2) {
    ctx.error(
      'LF_CONFLICT',
      `triggers[${p[2]}] sets both debounce and throttle; keep one (debounce merges a burst into one run, throttle limits how many start)`,
      [...p, 'throttle'],
      { onKey: true },
    );
  }
  for (const k of present) {
    const gate = tr[k];
    if (!isObj(gate) || typeof gate.key !== 'string') continue;
    const at = [...p, k, 'key'];
    let refs: ReturnType<typeof findRefs>;
    try {
      refs = findRefs(gate.key);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      ctx.error('LF_TEMPLATE_SYNTAX', `invalid template in ${k}.key of triggers[${p[2]}]: ${err.message}`, at);
      continue;
    }
    for (const occ of refs) {
      if (occ.ref.kind === 'event') continue;
      ctx.error(
        'LF_TRIGGER_KEY',
        `${k}.key of triggers[${p[2]}] reads ${occ.text}, but a key groups events and may read only the event; write e.g. key: "\${event.data.lead_id}"`,
        at,
        { inString: occ.offset },
      );
    }
  }
}
