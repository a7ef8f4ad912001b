/** Test helpers: an engine on the memory store, definitions from YAML text, and the replay check every run gets. */
import { expect } from 'vitest';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { Engine, replayRun, type Handlers, type RunView } from '../../src/runtime/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

export function def(yamlText: string): Definition {
  const { definition, diagnostics } = parseDefinition(yamlText, 'test.yaml');
  if (!definition) throw new Error(diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
  return definition;
}

export function engine(): { engine: Engine; store: MemoryEventStore } {
  const store = new MemoryEventStore();
  return { engine: new Engine({ store }), store };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a definition to idle and checks that replaying its log gives exactly the live state. */
export async function runToIdle(e: Engine, d: Definition, input: Record<string, unknown>, handlers: Handlers, maxTimerWaitMs = 60_000): Promise<RunView> {
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
