/**
 * The state file written by the writer's thread (src/state-file/thread.ts): the YAML rendered and the files
 * written off the engine's thread are byte for byte what a rebuild writes for the same logs, the worksets of runs
 * no longer shown are removed, a process that writes only once or twice never starts the thread, and close()
 * leaves the file reflecting the last commit.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { buildProjection, StateFileWriter } from '../../src/state-file/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { observedStore } from '../../src/store/observed.js';
import { tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';

const TWO = def(`
workflow:
  id: two-steps
  name: Two steps
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
`);
const SIGNED = def(`
workflow:
  id: two-steps-signed
  name: Two steps, then a sign-off
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: sign, type: HUMAN, depends_on: [b], timeout: 1h }
`);
const handlers = { a: async () => ({ n: 1 }), b: async () => ({ n: 2 }) };

/** The writer's thread, when it started (a private field: the test looks, the writer does not say). */
const threadOf = (w: StateFileWriter) => (w as unknown as { thread: unknown }).thread;

describe("the state file's writer thread", () => {
  it('writes what a rebuild writes, removes the worksets of runs it no longer shows, and is current after close', async () => {
    const dir = tempDir();
    const path = join(dir, '.3ox', 'workflow.state.yaml');
    const store = new FileEventStore(join(dir, 'store'));
    const writer = new StateFileWriter(store, {
      path,
      keep: 3,
      warn: (m) => {
        throw new Error(m);
      },
      intervalMs: 0,
      thread: true,
    });
    const engine = new Engine({ store: observedStore(store, [writer]) });
    for (let i = 0; i < 8; i++) await engine.run(i % 3 === 0 ? SIGNED : TWO, {}, { handlers });
    await writer.flushNow();
    expect(threadOf(writer)).not.toBeNull();
    const check = async () => {
      const expected = await buildProjection(store, 3);
      expect(readFileSync(path, 'utf8')).toBe(expected.text);
      const ws = join(dir, '.3ox', 'worksets');
      expect(readdirSync(ws).sort()).toEqual([...expected.worksets.keys()].map((id) => `ws-${id}.yaml`).sort());
      for (const [id, text] of expected.worksets) expect(readFileSync(join(ws, `ws-${id}.yaml`), 'utf8')).toBe(text);
      expect(readdirSync(join(dir, '.3ox')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      return expected;
    };
    // 3 waiting (not settled: always shown) and the newest 3 settled.
    expect((await check()).worksets.size).toBe(6);
    // More runs settle: the oldest settled drop out of the file, and their worksets go.
    for (let i = 0; i < 4; i++) await engine.run(TWO, {}, { handlers });
    await writer.close();
    expect(threadOf(writer)).toBeNull(); // closed, and the process is free to exit
    expect((await check()).worksets.size).toBe(6);
    await store.close();
  }, 60_000);

  it('a process that writes once or twice writes in its own thread', async () => {
    const dir = tempDir();
    const path = join(dir, '.3ox', 'workflow.state.yaml');
    const store = new FileEventStore(join(dir, 'store'));
    const writer = new StateFileWriter(store, {
      path,
      keep: 50,
      warn: (m) => {
        throw new Error(m);
      },
    });
    const engine = new Engine({ store: observedStore(store, [writer]) });
    await engine.run(TWO, {}, { handlers });
    await writer.flushNow();
    expect(threadOf(writer)).toBeNull();
    expect(existsSync(path)).toBe(true);
    await writer.close();
    expect(readFileSync(path, 'utf8')).toBe((await buildProjection(store, 50)).text);
    await store.close();
  }, 60_000);
});
