/**
 * task_success_rate's facts (docs/metrics.md#per-workflow-figures): a task
 * settles once per end of its own, in the commit that ends it, over the
 * golden histories' commits as a driver makes them. A retried task settles
 * once, when its last attempt ends; a retry's reused task never.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { deriveFacts, TASK_ENDS, type Fact, type TaskEnd } from '../../src/metrics/index.js';
import { foldEvents, foldOntoRun, type RunSnapshot } from '../../src/runtime/index.js';
import { ROOT } from '../helpers/cli.js';

const HISTORIES = join(ROOT, 'test', 'fixtures', 'histories');

function groupsOf(file: string): EventEnvelope[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
}

/** The task.settled facts of every commit after run.started, and the final state. */
function settledOf(file: string): { facts: Extract<Fact, { kind: 'task.settled' }>[]; last: RunSnapshot } {
  const groups = groupsOf(file);
  const { compiled, snapshot } = foldEvents(groups[0]!.slice(0, 1));
  let state = snapshot;
  const facts: Extract<Fact, { kind: 'task.settled' }>[] = [];
  for (const events of [groups[0]!.slice(1), ...groups.slice(1)]) {
    if (events.length === 0) continue;
    const after = foldOntoRun(compiled, state, events).snapshot;
    for (const f of deriveFacts(events, state, after)) if (f.kind === 'task.settled') facts.push(f);
    state = after;
  }
  return { facts, last: state };
}

const histories = readdirSync(HISTORIES).flatMap((d) => {
  const dir = join(HISTORIES, d);
  return statSync(dir).isDirectory()
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => join(dir, f))
    : [];
});

describe('task.settled facts', () => {
  it('a task retried after a timeout settles once, COMPLETED', () => {
    const { facts } = settledOf(
      join(HISTORIES, 'revenue_milestone', 'compute_metrics-times-out-then-succeeds-on-retry.jsonl'),
    );
    expect(facts.filter((f) => f.task === 'compute_metrics').map((f) => f.status)).toEqual(['COMPLETED']);
  });

  it("a retry's reused task is not counted: it ran nothing in this run", () => {
    const { facts } = settledOf(join(HISTORIES, 'lead_qualification', 'scenario-retried-after-failure.jsonl'));
    expect(facts.map((f) => f.task)).not.toContain('score_lead');
    expect(facts.map((f) => f.task)).toContain('compute_value');
  });

  it('over every golden history: each task that ended on its own has its last fact with that end', () => {
    expect(histories.length).toBeGreaterThan(50);
    for (const file of histories) {
      const { facts, last } = settledOf(file);
      const reused = new Set(Object.keys(last.context.reuse?.outputs ?? {}));
      for (const [task, t] of Object.entries(last.context.tasks)) {
        if (!TASK_ENDS.includes(t.status as TaskEnd) || reused.has(task)) continue;
        expect(facts.filter((f) => f.task === task).at(-1)?.status, `${file}: ${task}`).toBe(t.status);
      }
    }
  });
});
