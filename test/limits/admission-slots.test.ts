/**
 * The slot document of a concurrency limit (src/limits/admission-slots.ts)
 * is a projection of the logs: whatever a crash or a hand leaves in it, the
 * limit a user wrote (docs/limits.md#concurrency-limits-and-priority) holds
 * and no queued run is stranded. Each case leaves the document as a process
 * dying at one point would, on the file store and in memory, then starts
 * runs through the library as a user does.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, MemoryEventStore, parseDefinition, type Definition, type EventStore } from '../../src/index.js';
import { fileStore } from '../helpers/engine.js';

const YAML = `workflow:
  id: invoice
  input:
    required: [customer]
  concurrency: { limit: 1 }
  tasks:
    - { id: review, type: HUMAN, approvers: [ops] }
`;

function def(): Definition {
  const r = parseDefinition(YAML);
  expect(r.diagnostics).toEqual([]);
  return r.definition!;
}

/** The document's name for (invoice, no key), as admission names it. */
const DOC = `admission-slots-${createHash('sha256').update('invoice\u0000').digest('hex').slice(0, 32)}`;

interface Place {
  store: EventStore;
  dir: string | null;
}

const places: Record<'file' | 'memory', () => Place> = {
  file: () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-slots-'));
    return { store: fileStore(dir), dir };
  },
  memory: () => ({ store: new MemoryEventStore(), dir: null }),
};

/**
 * The store as a process sees it that dies while it admits: while `dead` is
 * set, every admission decision fails before it reads or writes anything.
 */
function dying(store: EventStore): { store: EventStore; dead: { on: boolean } } {
  const dead = { on: false };
  const wrapped = Object.create(store) as EventStore;
  wrapped.exclusive = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    if (dead.on && name.startsWith('admission-')) return Promise.reject(new Error('the process died here'));
    return store.exclusive ? store.exclusive(name, fn) : fn();
  };
  return { store: wrapped, dead };
}

const types = async (engine: Engine, runId: string) => (await engine.events(runId)).map((e) => e.type);

for (const kind of ['file', 'memory'] as const) {
  describe(`the slot document of a concurrency limit (${kind} store)`, () => {
    it('a holder a dead process named but never started holds no slot', async () => {
      const { store } = places[kind]();
      // A start that named its run in the document and died before writing run.started.
      await store.updateShared!(DOC, () => ({
        doc: { v: 1, holders: ['20261125-000000-ghost000000001'], queued: [] },
        result: null,
      }));
      const engine = new Engine({ store });
      const a = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      expect(a.status).toBe('WAITING');
      const b = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      expect(b.status).toBe('QUEUED');
      expect(await store.readShared!(DOC)).toEqual({
        v: 1,
        holders: [a.runId],
        queued: [expect.objectContaining({ runId: b.runId })],
      });
    });

    it('a settle whose admission was lost: the next start finds the slot free, admits the queued run first and queues itself', async () => {
      const { store: base } = places[kind]();
      const { store, dead } = dying(base);
      const engine = new Engine({ store });
      const a = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      const b = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      expect([a.status, b.status]).toEqual(['WAITING', 'QUEUED']);
      dead.on = true;
      await engine.cancel(a.runId, { by: 'ops' });
      dead.on = false;
      // Nothing admitted b: the document still names a as the holder.
      expect(await types(engine, b.runId)).toEqual(['run.started', 'run.queued']);
      const c = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      expect(c.status).toBe('QUEUED');
      expect(await types(engine, b.runId)).toEqual(['run.started', 'run.queued', 'run.admitted']);
    });

    it('a document lost or not readable is rebuilt from the logs, and the limit holds', async () => {
      const { store, dir } = places[kind]();
      const engine = new Engine({ store });
      const a = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      expect(a.status).toBe('WAITING');
      if (dir) {
        const file = join(dir, 'gates', `${DOC}.json`);
        expect(existsSync(file)).toBe(true);
        rmSync(file);
      } else {
        await store.updateShared!(DOC, () => ({ doc: null, result: null }));
      }
      expect((await engine.run(def(), { customer: 'acme' }, { handlers: {} })).status).toBe('QUEUED');
      // Edited by hand into something else.
      if (dir) writeFileSync(join(dir, 'gates', `${DOC}.json`), '{"v":9,"holders":"everyone"}');
      else await store.updateShared!(DOC, () => ({ doc: { v: 9, holders: 'everyone' }, result: null }));
      expect((await engine.run(def(), { customer: 'acme' }, { handlers: {} })).status).toBe('QUEUED');
      expect(await store.readShared!(DOC)).toMatchObject({ v: 1, holders: [a.runId] });
      expect(((await store.readShared!(DOC)) as { queued: unknown[] }).queued).toHaveLength(2);
    });

    it('a cancelled queued run leaves the queue, and the runs behind it go in order', async () => {
      const { store } = places[kind]();
      const engine = new Engine({ store });
      const a = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      const b = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      const c = await engine.run(def(), { customer: 'acme' }, { handlers: {} });
      await engine.cancel(b.runId, { by: 'ops' });
      expect(((await store.readShared!(DOC)) as { queued: { runId: string }[] }).queued.map((q) => q.runId)).toEqual([
        c.runId,
      ]);
      await engine.decide(a.runId, 'review', 'approved', 'ops');
      await engine.drive(a.runId, { handlers: {} });
      expect((await engine.status(c.runId)).status).toBe('WAITING');
      expect(await types(engine, b.runId)).toEqual(['run.started', 'run.queued', 'run.cancelled']);
    });
  });
}
