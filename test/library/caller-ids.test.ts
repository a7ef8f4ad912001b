/** Engine.startRun and Engine.run with `runId` (docs/library-api.md, docs/runs.md#caller-chosen-run-ids). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childRunId, failureRunId, spareChildRunId } from '../../src/compiler/index.js';
import { RUN_ID_PATTERN } from '../../src/events/index.js';
import { checkCallerRunId } from '../../src/executor/index.js';
import { Engine, MemoryEventStore, parseDefinition, type Definition, type EventStore } from '../../src/index.js';
import { fileStore } from '../helpers/engine.js';

function def(extra = ''): Definition {
  const r = parseDefinition(`workflow:
  id: order
${extra}  tasks:
    - { id: charge, type: SIMPLE, handler: charge, retry_policy: { max_attempts: 1 } }
`);
  expect(r.diagnostics).toEqual([]);
  return r.definition!;
}

/** A store whose lastSeq answers 0 for `runId` once: the start decides to begin it as if another start had not yet written it. */
function blindOnce(store: EventStore, runId: string): EventStore {
  let blind = true;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'lastSeq') {
        return async (id: string) => {
          if (id === runId && blind) {
            blind = false;
            return 0;
          }
          return target.lastSeq(id);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('caller-chosen run ids through the library', () => {
  it('startRun twice: one run, the second answer existing: true with its status', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const first = await engine.startRun(def(), {}, { runId: 'order-42' });
    expect(first).toEqual({ runId: 'order-42', workflowId: 'order', version: 1, status: 'RUNNING', existing: false });
    const second = await engine.startRun(def(), {}, { runId: 'order-42' });
    expect(second).toEqual({ ...first, existing: true });
    expect(await engine.list()).toHaveLength(1);
  });

  it('a start that loses the race at sequence 0 returns the winner, on the file store, from two Engines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-ids-'));
    const store = fileStore(dir);
    const a = new Engine({ store });
    await a.startRun(def(), {}, { runId: 'race' });
    // The second Engine, on its own store instance of the same directory, is told the id is free: its append at 0 is refused.
    const b = new Engine({ store: blindOnce(fileStore(dir), 'race') });
    const lost = await b.startRun(def(), {}, { runId: 'race' });
    expect(lost).toMatchObject({ runId: 'race', existing: true, status: 'RUNNING' });
    expect((await store.read('race')).filter((e) => e.type === 'run.started')).toHaveLength(1);
    // Engine.run too: the loser is not driven, its handler never called.
    let called = 0;
    const c = new Engine({ store: blindOnce(fileStore(dir), 'race') });
    const view = await c.run(
      def(),
      {},
      {
        runId: 'race',
        handlers: {
          charge: async () => {
            called++;
            return {};
          },
        },
      },
    );
    expect(view).toMatchObject({ runId: 'race', existing: true });
    expect(called).toBe(0);
  });

  it('many concurrent starts of one id on one file store: one run.started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-ids-'));
    const engines = Array.from({ length: 6 }, () => new Engine({ store: fileStore(dir) }));
    const answers = await Promise.all(engines.map((e) => e.startRun(def(), {}, { runId: 'burst' })));
    expect(answers.filter((x) => !x.existing)).toHaveLength(1);
    expect(new Set(answers.map((x) => x.runId))).toEqual(new Set(['burst']));
    expect((await fileStore(dir).read('burst')).filter((e) => e.type === 'run.started')).toHaveLength(1);
  });

  it('reuse after failure: <id>--2 once the run FAILED, per the definition or the start', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const fail = {
      charge: async () => {
        throw new Error('declined');
      },
    };
    const ok = { charge: async () => ({ ok: true }) };
    expect((await engine.run(def(), {}, { runId: 'inv', handlers: fail })).status).toBe('FAILED');
    expect(await engine.run(def(), {}, { runId: 'inv', handlers: ok })).toMatchObject({
      runId: 'inv',
      status: 'FAILED',
      existing: true,
    });
    expect(
      await engine.run(def('  id_reuse: allow_after_failure\n'), {}, { runId: 'inv', handlers: ok }),
    ).toMatchObject({ runId: 'inv--2', status: 'COMPLETED' });
    expect(await engine.startRun(def(), {}, { runId: 'inv', idReuse: 'allow_after_failure' })).toMatchObject({
      runId: 'inv--2',
      existing: true,
    });
    expect(await engine.startRun(def(), {}, { runId: 'inv', idReuse: 'allow' })).toMatchObject({
      runId: 'inv--3',
      existing: false,
    });
    // A run that has not settled is returned under every policy.
    expect(await engine.startRun(def(), {}, { runId: 'inv', idReuse: 'allow' })).toMatchObject({
      runId: 'inv--3',
      existing: true,
      status: 'RUNNING',
    });
  });

  it('finds the latest of a long chain of reused ids', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const fail = {
      charge: async () => {
        throw new Error('declined');
      },
    };
    for (let i = 1; i <= 11; i++) {
      const view = await engine.run(def(), {}, { runId: 'k', idReuse: 'allow_after_failure', handlers: fail });
      expect(view.runId).toBe(i === 1 ? 'k' : `k--${i}`);
    }
  });

  it('refuses a bad id or policy from a JavaScript caller, nothing written', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    await expect(engine.startRun(def(), {}, { runId: 'a/b' })).rejects.toMatchObject({ code: 'LF_USAGE' });
    await expect(engine.startRun(def(), {}, { runId: 'a--3' })).rejects.toMatchObject({ code: 'LF_USAGE' });
    await expect(engine.startRun(def(), {}, { runId: 'a', idReuse: 'maybe' as never })).rejects.toThrow(
      /expected one of reject_duplicate, allow_after_failure, allow/,
    );
    expect(await engine.list()).toEqual([]);
  });

  it("takes ids that look like a child run's (bob-order-1, invoice-acme-42); no caller id can be a child's spare id <child>--0, short or hashed", async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    for (const id of ['bob-order-1', 'invoice-acme-42', 'customer-acme-1', 'p-credit-1'])
      expect((await engine.startRun(def(), {}, { runId: id })).runId).toBe(id);
    const long = childRunId('r'.repeat(90), { task: 't'.repeat(40), item: 3 }, 2);
    for (const child of [
      childRunId('p', { task: 'credit' }, 1),
      childRunId('p', { task: 'x-' }, 1),
      childRunId('r'.repeat(90), { task: 'credit' }, 1),
      long,
      failureRunId('p'),
    ]) {
      const spare = spareChildRunId(child);
      expect(spare, child).toMatch(RUN_ID_PATTERN);
      expect(spare).not.toBe(child);
      expect(spareChildRunId(child)).toBe(spare); // the same on every call: a re-attach finds the same run
      expect(() => checkCallerRunId(spare), spare).toThrow(/does not end in --<digits>|1-100 characters/);
    }
    expect(spareChildRunId('p-credit-1')).toBe('p-credit-1--0');
    expect(spareChildRunId(long)).toHaveLength(128);
  });
});
