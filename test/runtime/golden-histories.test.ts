/**
 * Golden histories (test/fixtures/histories/): logs recorded once by the
 * runtime of their day, in the file store's on-disk format, and frozen. Old
 * logs must keep replaying: this is the contract with every user who has runs
 * on disk. Every history is read as a user's store reads it, replayed, and
 * must match its manifest entry; the altered copies must diverge exactly at
 * the event that was changed. Nothing here records or rewrites a history.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Definition } from '../../src/definition/index.js';
import { latestWorkflow, replayRun } from '../../src/runtime/index.js';
import {
  DECLARED_TAGS,
  HISTORIES_DIR,
  MANIFEST_FILE,
  Manifest,
  readHistory,
  REQUIRED_TAGS,
  tagsShown,
} from '../fixtures/histories/histories.js';

const manifest = Manifest.parse(JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')));

/** Every .jsonl under the folder, relative to it. */
function historyFiles(dir = HISTORIES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => {
      if (d.isDirectory()) return historyFiles(join(dir, d.name));
      return d.name.endsWith('.jsonl') ? [relative(HISTORIES_DIR, join(dir, d.name))] : [];
    })
    .sort();
}

const lines = (file: string) =>
  readFileSync(join(HISTORIES_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;

describe('golden histories', () => {
  it('has a manifest entry for every file and a file for every entry', () => {
    const listed = [...manifest.histories, ...manifest.altered].map((h) => h.file).sort();
    expect(new Set(listed).size, 'a file listed twice').toBe(listed.length);
    expect(historyFiles()).toEqual(listed);
  });

  it('holds every bundled workflow, and a retried, a timed-out, a rejected, an interrupted, a cancelled run and a refused approval', () => {
    const workflows = new Set(manifest.histories.map((h) => h.definition));
    const bundled = readdirSync(join(HISTORIES_DIR, '..', '..', '..', 'definitions'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `definitions/${f}`);
    for (const d of bundled) expect(workflows.has(d), d).toBe(true);
    const tags = new Set(manifest.histories.flatMap((h) => h.tags));
    for (const t of REQUIRED_TAGS) expect(tags.has(t), t).toBe(true);
  });

  for (const h of manifest.histories) {
    describe(h.file, () => {
      it('replays without divergence to the state its manifest entry records', async () => {
        const events = await readHistory(join(HISTORIES_DIR, h.file), h.runId);
        expect(events.length).toBe(h.events);
        expect(lines(h.file)).toBe(h.commits);
        const report = replayRun(events);
        expect(report.divergence).toBeNull();
        expect(report.events).toBe(h.events);
        expect(report.view).toMatchObject({
          runId: h.runId,
          workflowId: h.workflow,
          version: h.version,
          status: h.status,
          seq: h.events,
        });
        expect(Object.fromEntries(Object.entries(report.view.tasks).map(([id, t]) => [id, t.status]))).toEqual(h.tasks);
        // What the log shows must be what the manifest says it shows (the scenario-only tags aside).
        expect(tagsShown(events, report.view)).toEqual(
          h.tags.filter((t) => !(DECLARED_TAGS as readonly string[]).includes(t)),
        );
      });

      it('could be taken over by its own definition (the candidate check)', async () => {
        const events = await readHistory(join(HISTORIES_DIR, h.file), h.runId);
        const started = events[0]!;
        if (started.type !== 'run.started') throw new Error('a history starts with run.started');
        // Its own: the one it runs under now (a migrated run's latest run.migrated's, docs/runs.md#migrating-in-flight-runs).
        const same = structuredClone(latestWorkflow(events).definition) as Definition;
        const report = replayRun(events, { candidate: same });
        expect(report.candidate).toEqual({
          workflowId: h.workflow,
          version: h.version,
          compatible: true,
          divergence: null,
        });
      });
    });
  }

  for (const a of manifest.altered) {
    it(`${a.file} diverges exactly at seq ${a.divergence.seq} (${a.divergence.type}), where it was altered`, async () => {
      const original = manifest.histories.find((h) => h.file === a.of);
      expect(original, `${a.of} is a golden history`).toBeDefined();
      const events = await readHistory(join(HISTORIES_DIR, a.file), a.runId);
      const report = replayRun(events);
      expect(report.divergence).toMatchObject({ seq: a.divergence.seq, type: a.divergence.type });
      expect(report.divergence!.reason).toContain(a.divergence.reason);
      // Not earlier: up to the event before, it is the original history.
      const before = await readHistory(join(HISTORIES_DIR, a.of), original!.runId);
      expect(events.slice(0, a.divergence.seq - 1)).toEqual(before.slice(0, a.divergence.seq - 1));
      expect(replayRun(events, { to: a.divergence.seq - 1 }).divergence).toBeNull();
    });
  }
});
