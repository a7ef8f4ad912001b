/**
 * Snapshots at the store boundary: the schema every stored snapshot is parsed with when read back (a KV value is input
 * like any message), and the in-memory SnapshotStore for tests and library use.
 */
import { z } from 'zod';
import { StoreError } from '../errors/index.js';
import { assertRunId } from './common.js';
import type { SnapshotStore, StoredSnapshot } from './port.js';

export const StoredSnapshotSchema = z.object({
  runId: z.string().min(1),
  seq: z.number().int().positive(),
  position: z.number().int().positive().nullable(),
  definitionHash: z.string().min(1),
  definition: z.record(z.string(), z.unknown()),
  fold: z.object({
    value: z.union([z.string(), z.record(z.string(), z.record(z.string(), z.string()))]),
    status: z.enum(['active', 'done']),
    context: z.record(z.string(), z.unknown()),
    entered: z.array(z.string()),
  }),
  takenAt: z.iso.datetime(),
});

/** Parses a stored snapshot's text; `where` names it in the error (bucket and key). */
export function parseStoredSnapshot(text: string, runId: string, where: string): StoredSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StoreError(
      `${where}: snapshot of run ${runId} is not JSON; delete it (it is only a cache) and the run loads from its log`,
      { runId },
      { cause: err },
    );
  }
  const r = StoredSnapshotSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new StoreError(
      `${where}: snapshot of run ${runId} is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}; delete it (it is only a cache) and the run loads from its log`,
      { runId },
    );
  }
  if (r.data.runId !== runId)
    throw new StoreError(`${where}: the snapshot stored for run ${runId} is of run ${r.data.runId}`, { runId });
  return r.data as StoredSnapshot;
}

/** Snapshots kept in this process, stored as JSON text as a KV bucket would keep them. */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly texts = new Map<string, string>();

  async get(runId: string): Promise<StoredSnapshot | null> {
    assertRunId(runId);
    const text = this.texts.get(runId);
    return text === undefined ? null : parseStoredSnapshot(text, runId, 'memory snapshots');
  }

  async put(snapshot: StoredSnapshot): Promise<void> {
    assertRunId(snapshot.runId);
    this.texts.set(snapshot.runId, JSON.stringify(snapshot));
  }

  async delete(runId: string): Promise<void> {
    this.texts.delete(runId);
  }

  /** Replaces a stored snapshot's text as it is (tests: a damaged or foreign snapshot). */
  putText(runId: string, text: string): void {
    this.texts.set(runId, text);
  }

  async close(): Promise<void> {}
}
