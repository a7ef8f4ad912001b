/**
 * LEDGERFLOW_NATS_OFFERS (docs/nats.md): `on` by default, `off` turns offers off
 * for engines and workers, anything else is a usage error (exit 2,
 * nothing started).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { offersEnabled } from '../../src/cluster/index.js';
import { UsageError } from '../../src/errors/index.js';

describe('LEDGERFLOW_NATS_OFFERS', () => {
  const before = process.env.LEDGERFLOW_NATS_OFFERS;
  afterEach(() => {
    if (before === undefined) delete process.env.LEDGERFLOW_NATS_OFFERS;
    else process.env.LEDGERFLOW_NATS_OFFERS = before;
  });

  it('is on unless set to off; another value is a usage error naming the variable', () => {
    delete process.env.LEDGERFLOW_NATS_OFFERS;
    expect(offersEnabled()).toBe(true);
    process.env.LEDGERFLOW_NATS_OFFERS = 'on';
    expect(offersEnabled()).toBe(true);
    process.env.LEDGERFLOW_NATS_OFFERS = 'off';
    expect(offersEnabled()).toBe(false);
    process.env.LEDGERFLOW_NATS_OFFERS = 'no';
    expect(() => offersEnabled()).toThrow(UsageError);
    expect(() => offersEnabled()).toThrow(/LEDGERFLOW_NATS_OFFERS=no must be on or off/);
  });
});
