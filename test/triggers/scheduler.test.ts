import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import {
  engineStarter,
  FileScheduleCursor,
  MemoryScheduleCursor,
  Scheduler,
  type ScheduleCursor,
  type StartScheduled,
} from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';
import { gate } from '../helpers/wait.js';

const nightly = (catchUp = 'latest', cron = '*/10 * * * * *') =>
  def(`
workflow:
  id: nightly
  input:
    required: [dept]
  triggers:
    - { schedule: "${cron}", timezone: Europe/Berlin, catch_up: ${catchUp}, input: { dept: ops } }
  tasks:
    - { id: note, type: SET, values: { dept: "\${workflow.input.dept}" } }
`);
const T0 = Date.parse('2026-01-01T09:00:00Z');

function setup(d = nightly(), cursor: ScheduleCursor = new MemoryScheduleCursor(), start?: StartScheduled) {
  const store = new MemoryEventStore();
  const engine = new Engine({ store });
  const lines: string[] = [];
  const scheduler = new Scheduler({
    cursor,
    definitions: () => [d],
    start: start ?? engineStarter(engine),
    graceMs: 0,
    log: (l) => lines.push(l),
  });
  return { store, engine, scheduler, lines, cursor };
}
const runIds = async (store: MemoryEventStore) => (await store.listRuns()).map((r) => r.runId).sort();

describe('Scheduler.fireDue', () => {
  it('starts from now the first time, then starts one run per slot with the slot in run.started, once however often it is asked', async () => {
    const { store, engine, scheduler, lines } = setup();
    expect(await scheduler.fireDue(T0 + 5000)).toEqual({ fired: [], missed: [], failed: [] });
    expect(lines[0]).toContain('first seen: it fires from 2026-01-01T09:00:05.000Z on');
    const r = await scheduler.fireDue(T0 + 10_000);
    expect(r.fired).toEqual([
      {
        workflowId: 'nightly',
        trigger: 0,
        slot: '2026-01-01T09:00:10.000Z',
        runId: 'nightly-s0-20260101T090010Z',
        duplicate: false,
      },
    ]);
    expect((await scheduler.fireDue(T0 + 10_000)).fired).toEqual([]);
    expect((await scheduler.fireDue(T0 + 19_000)).fired).toEqual([]);
    const [started] = await engine.events('nightly-s0-20260101T090010Z');
    expect(started!.type === 'run.started' && started!.data.source).toEqual({
      schedule: { trigger: 0, slot: '2026-01-01T09:00:10.000Z', cron: '*/10 * * * * *', timezone: 'Europe/Berlin' },
    });
    expect(started!.type === 'run.started' && started!.data.input).toEqual({ dept: 'ops' });
    expect(await runIds(store)).toEqual(['nightly-s0-20260101T090010Z']);
  });

  it("deals with many schedules due at once side by side, and reports them in the definitions' order", async () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      def(`
workflow:
  id: job-${String(i).padStart(2, '0')}
  triggers:
    - { schedule: "*/10 * * * * *", timezone: UTC }
  tasks:
    - { id: note, type: SET, values: { n: ${i} } }
`),
    );
    const store = new MemoryEventStore();
    const starter = engineStarter(new Engine({ store }));
    let inFlight = 0;
    let most = 0;
    // The first schedule's start is held until a later one has finished: in finishing order the report would
    // not start with it. (A firer that started them one at a time would never get past it.)
    const laterFinished = gate();
    const start: StartScheduled = async (s) => {
      most = Math.max(most, ++inFlight);
      const first = s.definition.id === 'job-00';
      if (first) await laterFinished.opened;
      try {
        return await starter(s);
      } finally {
        inFlight--;
        if (!first) laterFinished.open();
      }
    };
    const scheduler = new Scheduler({ cursor: new MemoryScheduleCursor(), definitions: () => many, start, graceMs: 0 });
    await scheduler.fireDue(T0);
    const r = await scheduler.fireDue(T0 + 10_000);
    expect(r.fired.map((f) => f.workflowId)).toEqual(many.map((d) => d.id));
    expect(most).toBeGreaterThan(1);
    expect(await runIds(store)).toHaveLength(40);
  });

  it('two firers sharing a cursor start each slot once', async () => {
    const cursor = new MemoryScheduleCursor();
    const a = setup(nightly(), cursor);
    const store = a.store;
    const b = new Scheduler({
      cursor,
      definitions: () => [nightly()],
      start: engineStarter(new Engine({ store })),
      graceMs: 0,
    });
    await a.scheduler.fireDue(T0);
    for (let s = 1; s <= 6; s++) {
      const [ra, rb] = await Promise.all([a.scheduler.fireDue(T0 + s * 10_000), b.fireDue(T0 + s * 10_000 + 1)]);
      expect(ra.fired.length + rb.fired.length).toBe(1);
    }
    expect(await runIds(store)).toHaveLength(6);
  });

  it('after downtime, catch_up latest starts the most recent slot once and names the missed in the log and in run.started', async () => {
    const { engine, scheduler, lines, store } = setup(nightly('latest'));
    await scheduler.fireDue(T0);
    const r = await scheduler.fireDue(T0 + 45_000);
    expect(r.fired.map((f) => f.runId)).toEqual(['nightly-s0-20260101T090040Z']);
    expect(r.missed).toEqual([
      {
        workflowId: 'nightly',
        trigger: 0,
        catchUp: 'latest',
        slots: ['2026-01-01T09:00:10.000Z', '2026-01-01T09:00:20.000Z', '2026-01-01T09:00:30.000Z'],
        count: 3,
        atLeast: false,
      },
    ]);
    expect(lines.join('\n')).toContain(
      'missed 3 slots not fired, 2026-01-01T09:00:40.000Z fires for them (catch_up: latest)',
    );
    const [started] = await engine.events('nightly-s0-20260101T090040Z');
    expect(started!.type === 'run.started' && started!.data.source?.schedule).toMatchObject({
      missed: ['2026-01-01T09:00:10.000Z', '2026-01-01T09:00:20.000Z', '2026-01-01T09:00:30.000Z'],
      missedCount: 3,
    });
    expect(await runIds(store)).toHaveLength(1);
  });

  it('after downtime, catch_up none starts nothing and logs the missed; all starts each', async () => {
    const none = setup(nightly('none'));
    await none.scheduler.fireDue(T0);
    expect(await none.scheduler.fireDue(T0 + 45_000)).toMatchObject({ fired: [], missed: [{ count: 4 }] });
    expect(none.lines.join('\n')).toContain('missed 4 slots not fired (catch_up: none)');
    expect(await runIds(none.store)).toEqual([]);
    const all = setup(nightly('all'));
    await all.scheduler.fireDue(T0);
    expect((await all.scheduler.fireDue(T0 + 45_000)).fired).toHaveLength(4);
    expect(await runIds(all.store)).toHaveLength(4);
  });

  it('a slot claimed by a firer that died before starting it is started by another once the claim is stale', async () => {
    const cursor = new MemoryScheduleCursor();
    const dying = setup(nightly(), cursor, async () => {
      throw new Error('connection lost');
    });
    await dying.scheduler.fireDue(T0);
    expect((await dying.scheduler.fireDue(T0 + 10_000)).failed).toMatchObject([
      { permanent: false, error: 'connection lost' },
    ]);
    const other = setup(nightly(), cursor);
    expect((await other.scheduler.fireDue(T0 + 11_000)).fired).toEqual([]); // the claim is fresh: its owner may still start it
    expect((await other.scheduler.fireDue(T0 + 45_000)).fired.map((f) => f.slot)).toEqual([
      '2026-01-01T09:00:10.000Z',
      '2026-01-01T09:00:40.000Z',
    ]);
    expect(await runIds(other.store)).toEqual(['nightly-s0-20260101T090010Z', 'nightly-s0-20260101T090040Z']);
  });

  it('a slot whose run cannot start (bad input) is reported and given up, not retried every tick', async () => {
    const bad = def(`
workflow:
  id: typed
  input:
    required: [{ n: { type: number } }]
  triggers:
    - { schedule: "*/10 * * * * *", input: { n: "not a number" } }
  tasks:
    - { id: a, type: SET, values: { n: 1 } }
`);
    const { scheduler } = setup(bad);
    await scheduler.fireDue(T0);
    expect((await scheduler.fireDue(T0 + 10_000)).failed).toMatchObject([
      { runId: 'typed-s0-20260101T090010Z', permanent: true },
    ]);
    expect((await scheduler.fireDue(T0 + 11_000)).failed).toEqual([]);
  });

  it('a changed cron at the same index starts from now again', async () => {
    const cursor = new MemoryScheduleCursor();
    await setup(nightly(), cursor).scheduler.fireDue(T0);
    const changed = setup(nightly('latest', '0 * * * * *'), cursor);
    expect((await changed.scheduler.fireDue(T0 + 600_000)).fired).toEqual([]);
    expect(changed.lines[0]).toContain('changed: it fires from');
  });
});

describe('FileScheduleCursor (<store>/schedules.json)', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the cursor across processes (instances) and refuses a stale revision', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lf-sched-'));
    const file = join(dir, 'schedules.json');
    const first = setup(nightly(), new FileScheduleCursor(file));
    await first.scheduler.fireDue(T0);
    await first.scheduler.fireDue(T0 + 10_000);
    const r = await new Scheduler({
      cursor: new FileScheduleCursor(file),
      definitions: () => [nightly()],
      start: engineStarter(first.engine),
      graceMs: 0,
    }).fireDue(T0 + 20_000);
    expect(r.fired.map((f) => f.slot)).toEqual(['2026-01-01T09:00:20.000Z']);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.schedules['nightly.0'].entry).toEqual({
      cron: '*/10 * * * * *',
      timezone: 'Europe/Berlin',
      through: '2026-01-01T09:00:20.000Z',
      last: { slot: '2026-01-01T09:00:20.000Z', runId: 'nightly-s0-20260101T090020Z' },
    });
    const c = new FileScheduleCursor(file);
    const cur = (await c.get('nightly.0'))!;
    expect(await c.update('nightly.0', cur.entry, cur.revision - 1)).toBeNull();
    expect(await c.update('nightly.0', cur.entry, cur.revision)).toBe(cur.revision + 1);
  });

  it('writes queued together all land (each CAS decided in order), and a write by another instance is seen', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lf-sched-'));
    const file = join(dir, 'schedules.json');
    const a = new FileScheduleCursor(file);
    const entry = (through: string) => ({ cron: '0 9 * * *', timezone: 'UTC', through });
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        a.create(`job-${i}.0`, entry(`2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`)),
      ),
    );
    expect(new Set(created).size).toBe(30);
    // Two updates of one key at the same revision, queued together: the first wins, the second is refused.
    const rev = (await a.get('job-0.0'))!.revision;
    expect(
      await Promise.all([
        a.update('job-0.0', entry('2026-01-02T00:00:00.000Z'), rev),
        a.update('job-0.0', entry('2026-01-03T00:00:00.000Z'), rev),
      ]),
    ).toEqual([expect.any(Number), null]);
    expect((await a.get('job-0.0'))!.entry.through).toBe('2026-01-02T00:00:00.000Z');
    const b = new FileScheduleCursor(file);
    const cur = (await b.get('job-1.0'))!;
    expect(await b.update('job-1.0', entry('2026-02-01T00:00:00.000Z'), cur.revision)).not.toBeNull();
    expect((await a.get('job-1.0'))!.entry.through).toBe('2026-02-01T00:00:00.000Z');
    expect(await a.update('job-1.0', entry('2026-03-01T00:00:00.000Z'), cur.revision)).toBeNull();
    expect((await a.all()).size).toBe(30);
    expect(Object.keys(JSON.parse(await readFile(file, 'utf8')).schedules)).toHaveLength(30);
  });
});

describe('embeddedScheduler (what `serve` calls every tick)', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fires into the store directory with the definition's file in run.started and the cursor in <store>/schedules.json", async () => {
    const { writeFileSync } = await import('node:fs');
    const { loadDefinitionFile } = await import('../../src/files/index.js');
    const { openStore } = await import('../../src/store/index.js');
    const { embeddedScheduler } = await import('../../src/triggers/index.js');
    dir = await mkdtemp(join(tmpdir(), 'lf-sched-embedded-'));
    const file = join(dir, 'nightly.yaml');
    writeFileSync(
      file,
      `
workflow:
  id: nightly
  input:
    required: [dept]
  triggers:
    - { schedule: "*/10 * * * * *", timezone: Europe/Berlin, catch_up: latest, input: { dept: ops } }
  tasks:
    - { id: note, type: SET, values: { dept: "\${workflow.input.dept}" } }
`,
    );
    const storeDir = join(dir, 'store');
    const store = openStore({ dir: storeDir, nats: false });
    const engine = new Engine({ store });
    const scheduler = embeddedScheduler({ storeDir, engine, definitions: () => [loadDefinitionFile(file)] });
    await scheduler.fireDue(T0);
    expect((await scheduler.fireDue(T0 + 10_000)).fired.map((f) => f.runId)).toEqual(['nightly-s0-20260101T090010Z']);
    const [started] = await engine.events('nightly-s0-20260101T090010Z');
    expect(started!.type === 'run.started' && started!.data.source).toMatchObject({
      file,
      schedule: { slot: '2026-01-01T09:00:10.000Z' },
    });
    expect(
      JSON.parse(await readFile(join(storeDir, 'schedules.json'), 'utf8')).schedules['nightly.0'].entry.last.runId,
    ).toBe('nightly-s0-20260101T090010Z');
    await store.close();
  });
});
