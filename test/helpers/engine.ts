/** Test helpers: an engine on the memory store, definitions from YAML text, virtual time, and the replay check every run gets. */
import { expect, onTestFinished } from 'vitest';
import { VirtualClock } from '../../src/coverage/index.js';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { replayRun, type Handlers, type RunView } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import type { Clock } from '../../src/executor/index.js';
import { FileEventStore, MemoryEventStore } from '../../src/store/index.js';

export function def(yamlText: string): Definition {
  const { definition, diagnostics } = parseDefinition(yamlText, 'test.yaml');
  if (!definition) throw new Error(diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
  return definition;
}

/** A two-step chain (`first`, then `second`): the cluster dispatch tests' workflow, under an id of each test's own. */
export function twoSteps(id: string): Definition {
  return def(`
workflow:
  id: ${id}
  name: Two steps
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: second, type: SIMPLE, depends_on: [first] }
`);
}

/**
 * A file store closed when the test ends: a store that appended holds its journal's handle, and one left open is
 * closed by the collector later, with Node's DEP0137 warning printed in whatever test file the worker runs then.
 */
export function fileStore(dir: string): FileEventStore {
  const store = new FileEventStore(dir);
  onTestFinished(() => store.close());
  return store;
}

export function engine(opts: { clock?: Clock } = {}): { engine: Engine; store: MemoryEventStore } {
  const store = new MemoryEventStore();
  return { engine: new Engine({ store, ...opts }), store };
}

/**
 * Virtual time for tests whose subject is time (backoffs, timeouts, commit
 * windows): it stands still while anything can still happen without it, and
 * then jumps to the next timer, so a test advances time instead of waiting
 * for it. Handlers must answer within the turn, or wait on something the
 * engine does (an abort, a commit); stopped when the test ends.
 */
export function virtualClock(startMs = Date.UTC(2026, 0, 1, 9)): VirtualClock {
  const clock = new VirtualClock(startMs, { auto: true });
  onTestFinished(() => clock.stop());
  return clock;
}

/** Runs a definition to idle and checks that replaying its log gives exactly the live state. */
export async function runToIdle(
  e: Engine,
  d: Definition,
  input: Record<string, unknown>,
  handlers: Handlers,
  maxTimerWaitMs = 60_000,
): Promise<RunView> {
  const view = await e.run(d, input, { handlers, maxTimerWaitMs });
  await expectReplayMatches(e, view);
  return view;
}

export async function expectReplayMatches(e: Engine, view: RunView): Promise<void> {
  const events = await e.events(view.runId);
  const report = replayRun(events);
  expect(report.divergence).toBeNull();
  expect(report.view).toEqual(view);
}
