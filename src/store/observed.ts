/**
 * A store whose appends are told to observers after they are made, and whose close waits for the observers first: one
 * place that sees every commit a process makes (a step, a start, a person's input, an admission), whichever path made
 * it. The state file and the execution log watch the CLI's embedded store so (src/state-file/, src/execution-log/).
 */
import type { AppendRequest, AppendResult, EventStore } from './port.js';
import { overridden } from './overridden.js';

export interface StoreObserver {
  /** An append was made (it is in the log): what to do about it happens later, never in the commit's way. */
  appended(req: AppendRequest): void;
  /** An append starts (`ended`: false) or has ended, made or refused (true): what is in flight, for a reader of the store's mark. */
  appending?(ended: boolean): void;
  /** What an append waits for before it is made (undefined: nothing), e.g. a look at the store before this process changes it. */
  beforeAppend?(): Promise<unknown> | undefined;
  /** Finishes what it owes; the store closes after. */
  close(): Promise<void>;
  /** A run's live progress changed (docs/handlers.md#progress: not an append, never an event); the state file shows it. */
  progressed?(runId: string): void;
}

export function observedStore(store: EventStore, observers: readonly StoreObserver[]): EventStore {
  if (observers.length === 0) return store;
  const append = async (req: AppendRequest): Promise<AppendResult> => {
    for (const o of observers) {
      const first = o.beforeAppend?.();
      if (first) await first;
    }
    for (const o of observers) o.appending?.(false);
    let r: AppendResult;
    try {
      r = await store.append(req);
    } finally {
      for (const o of observers) o.appending?.(true);
    }
    for (const o of observers) o.appended(req);
    return r;
  };
  const close = async () => {
    await Promise.allSettled(observers.map((o) => o.close()));
    await store.close();
  };
  const progressed = (runId: string) => {
    for (const o of observers) o.progressed?.(runId);
  };
  return overridden(
    store,
    new Map<PropertyKey, unknown>([
      ['append', append],
      ['close', close],
      ['progressed', progressed],
    ]),
  );
}
