/** What every scenario of the executor contract is given, and the few helpers they share. */
import { readFileSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import type { EventEnvelope } from '../../../src/events/index.js';
import { gate, type Gate } from '../../helpers/wait.js';
import type { ExecutorTraits, ScenarioSetup, Session } from '../contract.js';

export interface ScenarioKit {
  /** Opens a session for this test (closed when it ends). */
  open(setup: ScenarioSetup): Promise<Session>;
  /** Every run's log replays to the state it recorded. */
  replays(s: Session, ...runIds: string[]): Promise<void>;
  /** What the executor under test does its own way (read in a test, not while collecting). */
  traits(): ExecutorTraits;
}

/**
 * A definition's YAML: the header every scenario's definition has, then `body`
 * (its `input:`, `output:`, `tasks:` …, indented as under `workflow:`).
 */
export function workflowYaml(id: string, name: string, body: string): string {
  return `workflow:\n  id: ${id}\n  name: ${name}\n  version: 1\n${body.replace(/^\n/, '')}`;
}

/**
 * A DO_WHILE polling until check's round is 3: a task before it, a body of two
 * tasks (check retried within an iteration), and what waits for the loop (a
 * task, a DECISION and its case). The DO_WHILE scenario runs it on each
 * executor; test/runtime/loops.test.ts folds its events by hand.
 */
export const pollUntilReady = workflowYaml(
  'ct-poll',
  'Poll until ready',
  `
  output: { rounds: "\${wait_ready.output.iteration}", last: "\${check.output.round}" }
  tasks:
    - { id: submit, type: SIMPLE }
    - id: wait_ready
      type: DO_WHILE
      depends_on: [submit]
      loop_over: [check, note]
      loop_condition: "check.output.round < 3"
      max_iterations: 5
    - id: check
      type: SIMPLE
      input: { round: "\${wait_ready.output.iteration}", previous: "\${check.output.round}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 100ms }
    - { id: note, type: SIMPLE, depends_on: [check], input: { seen: "\${check.output.round}" } }
    - { id: publish, type: SIMPLE, depends_on: [wait_ready], input: { last: "\${check.output.round}" } }
    - id: route
      type: DECISION
      depends_on: [wait_ready]
      decision_cases: { third: { condition: "check.output.round == 3", next: [announce] } }
    - { id: announce, type: SIMPLE, handler: publish, input: { last: "\${check.output.round}" } }
`,
);

/** The events of a type in a history, of one task if named. */
export const eventsOf = (h: EventEnvelope[], type: string, task?: string): EventEnvelope[] =>
  h.filter((e) => e.type === type && (task === undefined || (e.data as { task?: string }).task === task));
export const dataOf = (h: EventEnvelope[], type: string, task?: string): unknown[] =>
  eventsOf(h, type, task).map((e) => e.data);

/** A gate a held handler waits on, opened when the test ends at the latest (a handler no executor aborts must not outlive it). */
export function heldGate(): Gate {
  const g = gate();
  onTestFinished(() => g.open());
  return g;
}

/** A file's trimmed text, null while it is missing or empty. */
export function readIfThere(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
