/**
 * Cron expressions and time zones of schedule triggers, through `croner` (well kept, no dependencies, IANA zones
 * through `Intl`, DST-aware). Pure: no clock is read here; callers pass the instants.
 *
 * One rule set for every caller (validation, the scheduler, `ledgerflow schedules`): five fields (seconds 0) or six
 * (seconds first), or a nickname (@yearly, @monthly, @weekly, @daily, @hourly); Sunday is 0; day of month and day of
 * week combine with OR as in Vixie cron. DST: a job whose seconds, minutes and hours have no wildcard or step (a
 * wall-clock job: `30 2 * * *`, `0 2,14 * * *`) fires at the first instant after a spring-forward gap and once, at the
 * first occurrence, in a fall-back hour; any other job (an interval job: `0 * * * *`, `*\/15 * * * *`) fires once per
 * real interval (croner's `fixedTimeRule: 'no-wildcard'`).
 */
import { Cron } from 'croner';
import { rememberedCron } from './cron-cache.js';
import { errorMessage } from '../errors/index.js';

/** The croner job for an expression in a zone (paused: it never runs anything); throws croner's error when it does not parse. */
export function cronFor(expr: string, timezone: string): Cron {
  return rememberedCron(
    `${timezone}\u0000${expr}`,
    () => new Cron(expr.trim(), { timezone, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' }),
  );
}

/** croner's reason an expression does not parse (without its class prefix), or null when it does. */
export function cronProblem(expr: string): string | null {
  try {
    new Cron(expr.trim(), { paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' });
    return null;
  } catch (err) {
    return errorMessage(err).replace(/^CronPattern:\s*/, '');
  }
}

/** Whether `Intl` (and so croner) knows the zone: an IANA name such as Europe/Berlin, or UTC. */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zones this runtime knows, for a did-you-mean. */
export function knownTimeZones(): string[] {
  const list = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...list];
}

/** The first slot strictly after `afterMs` (ms since the epoch), or null when the expression never fires again. */
export function nextFire(expr: string, timezone: string, afterMs: number): number | null {
  const next = cronFor(expr, timezone).nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}
