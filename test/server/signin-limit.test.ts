/** The sign-in limiter on its own, with a clock the test moves: an address locked, a user slowed (never locked), a success resets, memory bounded. */
import { describe, expect, it } from 'vitest';
import { parseSignInLimit, SignInLimiter } from '../../src/server/signin-limit.js';

function limiter(maxKeys = 100) {
  let t = 1_000_000;
  const l = new SignInLimiter({ max: 5, windowMs: 60_000, maxKeys }, () => t);
  return {
    l,
    tick: (ms: number) => {
      t += ms;
    },
  };
}

describe('SignInLimiter', () => {
  it('locks an address after 5 failures whatever the names, until the window from the first failure ends', () => {
    const { l, tick } = limiter();
    for (let i = 0; i < 5; i++) {
      expect(l.admit('10.0.0.1', `user${i}`)).toBe(0);
      l.failed('10.0.0.1', `user${i}`);
      tick(1000);
    }
    expect(l.admit('10.0.0.1', 'someone-else')).toBe(55_000);
    expect(l.admit('10.0.0.2', 'someone-else')).toBe(0);
    tick(55_000);
    expect(l.admit('10.0.0.1', 'someone-else')).toBe(0);
  });

  it('slows a user after 5 failures from other addresses to one check per 12 s, never a lock: the right password gets in; a success forgets the counts', () => {
    const { l, tick } = limiter();
    for (let i = 0; i < 4; i++) l.failed(`10.0.0.${i}`, 'alice');
    l.succeeded('10.0.0.9', 'alice');
    l.failed('10.0.0.5', 'alice');
    expect(l.admit('10.0.0.6', 'alice')).toBe(0); // 1 since the success, not 5
    for (let i = 0; i < 4; i++) l.failed(`10.0.1.${i}`, 'alice');
    // Slowed: one check now (it takes the span), the next from any address 12 s later.
    expect(l.admit('10.0.2.1', 'alice')).toBe(0);
    l.failed('10.0.2.1', 'alice');
    expect(l.admit('10.0.2.2', 'alice')).toBe(12_000);
    tick(5_000);
    expect(l.admit('192.168.1.7', 'alice')).toBe(7_000);
    // However long the guessing goes on, alice's own address gets a check within 12 s, and her right password resets it.
    for (let round = 0; round < 20; round++) {
      tick(12_000);
      expect(l.admit(`10.0.3.${round}`, 'alice')).toBe(0);
      l.failed(`10.0.3.${round}`, 'alice');
    }
    tick(12_000);
    expect(l.admit('192.168.1.7', 'alice')).toBe(0);
    l.succeeded('192.168.1.7', 'alice');
    expect(l.admit('10.0.4.1', 'alice')).toBe(0);
    expect(l.admit('10.0.4.2', 'alice')).toBe(0);
    // Other names are not slowed by alice's count.
    expect(l.admit('10.0.2.2', 'bob')).toBe(0);
  });

  it('holds at most maxKeys counts however many names and addresses a client cycles through', () => {
    const { l, tick } = limiter(50);
    for (let i = 0; i < 10_000; i++) {
      l.failed(`10.1.${i >> 8}.${i & 255}`, `name-${i}`);
      tick(1);
    }
    expect(l.size).toBeLessThanOrEqual(50);
    tick(60_000);
    l.failed('10.9.9.9', 'x');
    expect(l.size).toBe(2); // the expired ones went
  });

  it('LEDGERFLOW_UI_SIGNIN_LIMIT: <failures>/<window>; a bad value names the variable and the shape', () => {
    expect(parseSignInLimit(undefined)).toMatchObject({ max: 5, windowMs: 60_000 });
    expect(parseSignInLimit('10/30s')).toMatchObject({ max: 10, windowMs: 30_000 });
    expect(() => parseSignInLimit('lots')).toThrow(
      /LEDGERFLOW_UI_SIGNIN_LIMIT=lots: give <failures>\/<window>, e.g. 5\/1m/,
    );
    expect(() => parseSignInLimit('0/1m')).toThrow(/LEDGERFLOW_UI_SIGNIN_LIMIT/);
  });
});
