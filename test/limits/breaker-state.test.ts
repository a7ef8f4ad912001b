import { describe, expect, it } from 'vitest';
import {
  admit,
  BreakerStateSchema,
  closedBreaker,
  dropProbe,
  forceClose,
  forceOpen,
  phaseAt,
  recordOutcome,
  type BreakerSpec,
} from '../../src/limits/breaker-state.js';

const spec: BreakerSpec = { failures: 3, windowMs: 60_000, openForMs: 30_000 };
const probeOf = (n: number) => ({ key: `r${n}/t/1`, runId: `r${n}`, task: 't', attempt: 1 });

describe('circuit breaker state', () => {
  it('stays closed below the failure count and opens at it, within the window', () => {
    const s = closedBreaker();
    expect(recordOutcome(s, spec, 'a', false, 0)).toBeNull();
    expect(recordOutcome(s, spec, 'b', false, 1000)).toBeNull();
    expect(admit(s, probeOf(1), 1500)).toEqual({ granted: true, probe: false });
    expect(recordOutcome(s, spec, 'c', false, 2000)).toBe('opened');
    expect(s).toMatchObject({ phase: 'open', openedAt: 2000, until: 32_000, by: 'failures', failures: [] });
  });

  it('forgets failures older than the window', () => {
    const s = closedBreaker();
    recordOutcome(s, spec, 'a', false, 0);
    recordOutcome(s, spec, 'b', false, 1000);
    expect(recordOutcome(s, spec, 'c', false, 60_500)).toBeNull(); // the one at 0 left the window
    expect(s.failures).toEqual([1000, 60_500]);
  });

  it('successes while closed do not open it', () => {
    const s = closedBreaker();
    for (let i = 0; i < 10; i++) expect(recordOutcome(s, spec, `k${i}`, true, i)).toBeNull();
    expect(s.phase).toBe('closed');
  });

  it('holds attempts while open, asking again when it half-opens', () => {
    const s = closedBreaker();
    for (const t of [0, 1, 2]) recordOutcome(s, spec, `k${t}`, false, t);
    expect(admit(s, probeOf(1), 10_000)).toEqual({ granted: false, retryInMs: 1000 });
    expect(admit(s, probeOf(1), 29_500)).toEqual({ granted: false, retryInMs: 502 });
    expect(phaseAt(s, 29_500)).toBe('open');
    expect(phaseAt(s, 30_002)).toBe('half_open');
  });

  it('lets one probe through when half open; its success closes the breaker', () => {
    const s = closedBreaker();
    for (const t of [0, 1, 2]) recordOutcome(s, spec, `k${t}`, false, t);
    expect(admit(s, probeOf(1), 40_000)).toEqual({ granted: true, probe: true });
    expect(admit(s, probeOf(2), 40_001)).toEqual({ granted: false, retryInMs: 1000 });
    expect(admit(s, probeOf(1), 40_002)).toEqual({ granted: true, probe: true }); // the probe asking again
    expect(recordOutcome(s, spec, 'r2/t/1', true, 40_003)).toBeNull(); // not the probe: counts for nothing
    expect(recordOutcome(s, spec, 'r1/t/1', true, 41_000)).toBe('closed');
    expect(s).toMatchObject({ phase: 'closed', failures: [], by: 'probe' });
    expect(admit(s, probeOf(2), 41_001)).toEqual({ granted: true, probe: false });
  });

  it('opens again for open_for when the probe fails', () => {
    const s = closedBreaker();
    for (const t of [0, 1, 2]) recordOutcome(s, spec, `k${t}`, false, t);
    admit(s, probeOf(1), 40_000);
    expect(recordOutcome(s, spec, 'r1/t/1', false, 45_000)).toBe('reopened');
    expect(s).toMatchObject({ phase: 'open', until: 75_000, by: 'probe' });
    expect(admit(s, probeOf(2), 50_000).granted).toBe(false);
  });

  it('a dropped probe lets the next asker probe', () => {
    const s = closedBreaker();
    for (const t of [0, 1, 2]) recordOutcome(s, spec, `k${t}`, false, t);
    admit(s, probeOf(1), 40_000);
    expect(dropProbe(s, 'r2/t/1')).toBe(false);
    expect(dropProbe(s, 'r1/t/1')).toBe(true);
    expect(phaseAt(s, 40_001)).toBe('half_open');
    expect(admit(s, probeOf(2), 40_001)).toEqual({ granted: true, probe: true });
    expect(s.probe?.key).toBe('r2/t/1');
  });

  it('an operator opens it until an operator closes it', () => {
    const s = closedBreaker();
    forceOpen(s, 5);
    expect(phaseAt(s, 10 ** 12)).toBe('open');
    expect(admit(s, probeOf(1), 10 ** 12).granted).toBe(false);
    forceClose(s, 6);
    expect(s).toMatchObject({ phase: 'closed', by: 'operator' });
    expect(admit(s, probeOf(1), 7).granted).toBe(true);
  });

  it('parses what it writes', () => {
    const s = closedBreaker();
    for (const t of [0, 1, 2]) recordOutcome(s, spec, `k${t}`, false, t);
    admit(s, probeOf(1), 40_000);
    expect(BreakerStateSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });
});
