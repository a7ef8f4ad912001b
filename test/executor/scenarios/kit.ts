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

/** The events of a type in a history, of one task if named. */
export const eventsOf = (h: EventEnvelope[], type: string, task?: string): EventEnvelope[] =>
  h.filter((e) => e.type === type && (task === undefined || (e.data as { task?: string }).task === task));
export const dataOf = (h: EventEnvelope[], type: string, task?: string): unknown[] => eventsOf(h, type, task).map((e) => e.data);

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
