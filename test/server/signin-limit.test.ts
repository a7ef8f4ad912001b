/** The sign-in limiter on its own, with a clock the test moves: per address, per user, a success resets, memory bounded. */
import { describe, expect, it } from 'vitest';
import { parseSignInLimit, SignInLimiter } from '../../src/server/signin-limit.js';

function limiter(maxKeys = 100) {
  let t = 1_000_000;
  const l = new SignInLimiter({ max: 5, windowMs: 60_000, maxKeys }, () => t);
  return { l, tick: (ms: number) => { t += ms; } };
}

describe('SignInLimiter', () => {
  it('locks an address after 5 failures whatever the names, until the window from the first failure ends', () => {
    const { l, tick } = limiter();
    for (let i = 0; i < 5; i++) { expect(l.wait('10.0.0.1', `user${i}`)).toBe(0); l.failed('10.0.0.1', `user${i}`); tick(1000); }
    expect(l.wait('10.0.0.1', 'someone-else')).toBe(55_000);
    expect(l.wait('10.0.0.2', 'someone-else')).toBe(0);
    tick(55_000);
    expect(l.wait('10.0.0.1', 'someone-else')).toBe(0);
  });

  it('locks a user after 5 failures from any addresses; a success forgets the counts', () => {
    const { l } = limiter();
    for (let i = 0; i < 4; i++) l.failed(`10.0.0.${i}`, 'alice');
    l.succeeded('10.0.0.9', 'alice');
    l.failed('10.0.0.5', 'alice');
    expect(l.wait('10.0.0.6', 'alice')).toBe(0); // 1 since the success, not 5
    for (let i = 0; i < 4; i++) l.failed(`10.0.1.${i}`, 'alice');
    expect(l.wait('10.0.0.6', 'alice')).toBe(60_000);
  });

  it('holds at most maxKeys counts however many names and addresses a client cycles through', () => {
    const { l, tick } = limiter(50);
    for (let i = 0; i < 10_000; i++) { l.failed(`10.1.${i >> 8}.${i & 255}`, `name-${i}`); tick(1); }
    expect(l.size).toBeLessThanOrEqual(50);
    tick(60_000);
    l.failed('10.9.9.9', 'x');
    expect(l.size).toBe(2); // the expired ones went
  });

  it('LEDGERFLOW_UI_SIGNIN_LIMIT: <failures>/<window>; a bad value names the variable and the shape', () => {
    expect(parseSignInLimit(undefined)).toMatchObject({ max: 5, windowMs: 60_000 });
    expect(parseSignInLimit('10/30s')).toMatchObject({ max: 10, windowMs: 30_000 });
    expect(() => parseSignInLimit('lots')).toThrow(/LEDGERFLOW_UI_SIGNIN_LIMIT=lots: give <failures>\/<window>, e.g. 5\/1m/);
    expect(() => parseSignInLimit('0/1m')).toThrow(/LEDGERFLOW_UI_SIGNIN_LIMIT/);
  });
});
