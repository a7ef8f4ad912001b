/**
 * serve holding many runs waiting for a person (bench scale: 10,000 and more waiting runs stalled it): every run is
 * taken up and drained on stop, and what each waiting run costs serve over time stays bounded (its log's fallback poll
 * is spread over more periods as followers grow, instead of a stat of every log every 200 ms).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { Service, type ServiceNotice } from '../../src/service/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { RunsWatcher } from '../../src/store/file-follow.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const approval = def(`
workflow:
  id: many-waiting
  version: 1
  tasks:
    - { id: breath, type: WAIT, duration: 10ms }
    - { id: sign_off, type: HUMAN, approvers: [alice], depends_on: [breath] }
`);

describe('serve with many waiting runs', () => {
  it('takes up 1,500 runs waiting on an approval written by another process, and drains them all on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-many-waiting-'));
    const store = new FileEventStore(dir);
    const engine = new Engine({ store });
    onTestFinished(() => store.close());
    const made = await engine.run(approval, {}, { handlers: {}, follow: false });
    expect(made.status).toBe('WAITING');
    const template = readFileSync(join(dir, 'runs', `${made.runId}.jsonl`), 'utf8');
    const ids = Array.from({ length: 1500 }, (_, i) => `m${String(i).padStart(5, '0')}`);
    for (const id of ids) writeFileSync(join(dir, 'runs', `${id}.jsonl`), template.split(made.runId).join(id));
    const driving = new Set<string>();
    const service = new Service({
      engine,
      storeDir: dir,
      handlers: {},
      onNotice: (n: ServiceNotice) => {
        if (n.kind === 'run.driving' && n.runId) driving.add(n.runId);
      },
    });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('every waiting run taken up', () => ids.every((id) => driving.has(id)), { timeout: 60_000 });
    const report = await service.stop();
    expect(report.interrupted).toEqual([]);
    expect(report.drained).toBe(ids.length + 1);
  }, 90_000);

  it('polls a bounded number of logs per period however many runs are followed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-poll-budget-'));
    const watcher = new RunsWatcher(dir);
    const removers = Array.from({ length: 1200 }, (_, i) => watcher.add(`r${i}.jsonl`, () => undefined));
    // 1,200 followers while watched: each polls one period in three (at most 500 polls a period).
    expect(watcher.pollEvery()).toBe(3);
    for (const remove of removers.slice(0, 800)) {
      remove();
      remove(); // twice is once
    }
    expect(watcher.pollEvery()).toBe(1);
    watcher.close();
    // Unwatched, polling is all there is: every follower every period.
    expect(watcher.pollEvery()).toBe(1);
  });
});
