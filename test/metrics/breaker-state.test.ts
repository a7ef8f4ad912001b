/** `ledgerflow_breaker_state{breaker}` (docs/metrics.md): each circuit breaker's state, read from the store at each scrape. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';
import { parsePromText } from '../helpers/prom-text.js';

describe('ledgerflow_breaker_state', () => {
  it('is 0 closed, 1 half open, 2 open, per breaker, as read at the scrape; a failed read leaves it out and says why', async () => {
    const said: string[] = [];
    const metrics = createMetrics({ log: (l) => said.push(l) });
    let fail = false;
    metrics.observeBreakers(async () => {
      if (fail) throw new Error('the store is gone');
      return [
        { name: 'task/charge_cards/charge', state: 'open' },
        { name: 'queue/payments', state: 'half_open' },
        { name: 'handler/sendEmail', state: 'closed' },
      ];
    });
    const samples = parsePromText(await metrics.text()).filter((s) => s.name === 'ledgerflow_breaker_state');
    expect(samples.map((s) => [s.labels.breaker, s.value])).toEqual([
      ['task/charge_cards/charge', 2],
      ['queue/payments', 1],
      ['handler/sendEmail', 0],
    ]);
    fail = true;
    expect(parsePromText(await metrics.text()).filter((s) => s.name === 'ledgerflow_breaker_state')).toEqual([]);
    expect(said).toEqual(['metrics: breakers not read: the store is gone']);
  });
});
