/**
 * `ledgerflow compile` writes machines/<id>.json for Stately's visualiser and
 * XState's own tools. This checks that XState itself runs what is written
 * there: an actor is created from each file's JSON (with the definition's
 * guards and actions), sent every path `ledgerflow paths` generates for the
 * definition, and must reach, event for event, the state the fold reaches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compile, type FoldSnapshot } from '../../src/compiler/index.js';
import { buildMachine } from '../../src/compiler/machine.js';
import { generatePaths } from '../../src/coverage/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { applyEvent, startFold, toMachineEvent } from '../../src/runtime/index.js';
import { ROOT } from '../helpers/cli.js';

const DEFINITIONS = join(ROOT, 'definitions');
const bundled = readdirSync(DEFINITIONS).filter((f) => f.endsWith('.yaml'));

/** What both must agree on: where each region is, each task's status and attempts, and how the run ended. */
function summary(value: unknown, status: string, tasks: FoldSnapshot['context']['tasks']) {
  return {
    value,
    status,
    tasks: Object.fromEntries(Object.entries(tasks).map(([id, t]) => [id, [t.status, t.attempts]])),
  };
}

describe('each compiled machine runs as an XState actor', () => {
  for (const file of bundled) {
    it(`machines/ JSON of definitions/${file}, on every generated path`, () => {
      const { definition } = parseDefinition(readFileSync(join(DEFINITIONS, file), 'utf8'), file);
      const compiled = compile(definition!);
      const json = JSON.parse(readFileSync(join(ROOT, 'machines', `${definition!.id}.json`), 'utf8'));
      const machine = buildMachine(definition!, json);
      const report = generatePaths(definition!);
      expect(report.paths.length).toBeGreaterThan(0);
      let sent = 0;
      for (const path of report.paths) {
        const time = Date.parse('2026-01-01T00:00:00.000Z');
        const runId = `actor-${path.name}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100);
        const actor = createActor(machine, {
          input: { runId, workflowId: definition!.id, version: definition!.version, input: path.input, time },
        });
        actor.start();
        let fold = startFold(compiled, { runId, time: new Date(time).toISOString(), input: path.input });
        for (const ev of path.events) {
          actor.send(toMachineEvent(ev));
          sent++;
          fold = applyEvent(compiled, fold, ev).snapshot;
          const s = actor.getSnapshot();
          expect(summary(s.value, s.status, s.context.tasks), `${path.name} after ${ev.type}`).toEqual(
            summary(fold.value, fold.status, fold.context.tasks),
          );
        }
        expect(actor.getSnapshot().status === 'done' ? 'settled' : 'active').toBe(
          path.outcome === 'RUNNING' || path.outcome === 'WAITING' ? 'active' : 'settled',
        );
        actor.stop();
      }
      expect(sent).toBeGreaterThan(report.paths.length);
    });
  }
});
