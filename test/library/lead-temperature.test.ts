/**
 * lead_qualification rates every lead hot, warm or cold (the issue: "score,
 * value, route hot/warm/cold") with its real handlers: hot and warm leads
 * become opportunities, cold ones are nurtured, and the rating follows the
 * route's thresholds, including a stricter qualify_score.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, loadDefinitionFile, loadHandlerModule, MemoryEventStore } from '../../src/index.js';
import { ROOT } from '../helpers/cli.js';

const loaded = loadDefinitionFile(join(ROOT, 'definitions', 'lead_qualification.yaml'));
const lead = {
  lead_id: 'L-1',
  company: 'Nordwind',
  employees: 850,
  industry: 'logistics',
  source: 'referral',
  budget: 120_000,
  currency: 'EUR',
  engagement: { website_visits: 14, email_opens: 6, content_downloads: 3, demo_requested: true },
  received_at: '2026-11-22T10:00:00.000Z',
};

describe('lead_qualification: hot, warm, cold', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['a large engaged referral in a target industry', {}, 'hot', 'register_opportunity'],
    [
      'a qualified lead below grade A',
      {
        employees: 120,
        engagement: { website_visits: 3, email_opens: 2, content_downloads: 1, demo_requested: false },
      },
      'warm',
      'register_opportunity',
    ],
    ['a small budget', { budget: 8_000, employees: 12 }, 'cold', 'nurture_lead'],
    ['the hot lead under a stricter qualify_score', { qualify_score: 95 }, 'cold', 'nurture_lead'],
  ];
  for (const [what, change, temperature, routed] of cases) {
    it(`${what} is ${temperature} → ${routed}`, async () => {
      const handlers = await loadHandlerModule(loaded.handlersPath!);
      const view = await new Engine({ store: new MemoryEventStore() }).run(
        loaded.definition,
        { ...lead, ...change },
        { handlers },
      );
      expect(view.status).toBe('COMPLETED');
      expect(view.output).toMatchObject({ temperature });
      expect(view.tasks[routed]!.status).toBe('COMPLETED');
      expect(view.tasks[routed]!.output).toMatchObject({ temperature });
    });
  }
});
