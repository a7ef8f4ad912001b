/**
 * docs/events.md is generated from the event schemas (scripts/events-reference.ts): it must be
 * what the script writes now, so an event type or a field cannot be missing from it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS_MD, REGENERATE, renderEventsReference } from '../../scripts/events-reference.js';
import { EVENT_TYPES } from '../../src/events/index.js';

describe('docs/events.md', () => {
  const page = readFileSync(EVENTS_MD, 'utf8');

  it('is what scripts/events-reference.ts writes from the schemas now', () => {
    expect(
      page === renderEventsReference(),
      `docs/events.md is stale: regenerate it with \`${REGENERATE}\` and commit it`,
    ).toBe(true);
  });

  it('has a section for every event type, with the fields its schema takes', () => {
    expect(EVENT_TYPES.length).toBeGreaterThanOrEqual(17);
    for (const t of EVENT_TYPES) expect(page).toContain(`\n## ${t}\n`);
    // A field a reader looks for: run.queued's priority, task.restarted's reason and its values.
    expect(page).toMatch(/## run\.queued[\s\S]*?\| `priority` \| integer ≥ 0 ≤ 99 \| yes \|/);
    expect(page).toMatch(/## task\.restarted[\s\S]*?\| `reason` \| `"resumed"` \\\| `"worker_lost"` \| yes \|/);
  });
});
