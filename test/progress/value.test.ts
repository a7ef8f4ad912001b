/** What a progress report is made of, coalescing, and how status and watch draw it (src/progress, src/terminal). */
import { describe, expect, it } from 'vitest';
import {
  etaMs,
  parseProgressLine,
  ProgressReporter,
  validFraction,
  validMessage,
  type LiveProgress,
  type ProgressChannel,
} from '../../src/progress/index.js';
import { etaLeft, etaText, progressBar, progressText } from '../../src/terminal/index.js';
import { waitFor } from '../helpers/wait.js';

describe('a progress value', () => {
  it('clamps a fraction beyond 0..1 and refuses NaN, infinities and non-numbers', () => {
    expect([0, 0.4, 1, -0.2, 1.7].map(validFraction)).toEqual([0, 0.4, 1, 0, 1]);
    expect([Number.NaN, Number.POSITIVE_INFINITY, '0.4', null, undefined].map(validFraction)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('makes a message one line of at most 200 characters; empty is none', () => {
    expect(validMessage('a\nb\tc')).toBe('a b c');
    expect(validMessage('   ')).toBeUndefined();
    expect(validMessage('x'.repeat(500))).toHaveLength(200);
  });

  it('parses the COMMAND lines docs/handlers.md names, and nothing else', () => {
    expect(parseProgressLine('0.4 scanned 400 of 1000')).toEqual({ fraction: 0.4, message: 'scanned 400 of 1000' });
    expect(parseProgressLine('40% scanned')).toEqual({ fraction: 0.4, message: 'scanned' });
    expect(parseProgressLine('1')).toEqual({ fraction: 1 });
    expect(parseProgressLine('{"fraction": 0.5, "message": "half"}')).toEqual({ fraction: 0.5, message: 'half' });
    for (const bad of ['', 'hello', 'NaN', '{bad', '{"fraction":"x"}', '[0.4]', '-', '.', 'Infinity'])
      expect(parseProgressLine(bad), bad).toBeNull();
  });

  it('estimates the time left from the rate so far', () => {
    const startedAt = '2026-01-01T00:00:00.000Z';
    expect(etaMs({ fraction: 0.25, at: '2026-01-01T00:00:10.000Z', startedAt })).toBe(30_000);
    expect(etaMs({ fraction: 0, at: '2026-01-01T00:00:10.000Z', startedAt })).toBeNull();
    expect(etaMs({ fraction: 1, at: '2026-01-01T00:00:10.000Z', startedAt })).toBe(0);
  });
});

describe('the reporter of an attempt', () => {
  const attempt = { runId: 'r1', task: 'scan', instance: 'scan', attempt: 1 };
  const channel = () => {
    const puts: LiveProgress[] = [];
    const removed: string[] = [];
    const c: ProgressChannel = {
      put: async (p) => void puts.push(p),
      remove: async (p) => void removed.push(p.instance),
      read: async () => [],
      watch: () => () => undefined,
    };
    return { c, puts, removed };
  };

  it('writes the first report at once, coalesces a burst, always delivers the last, and removes the live value at the end', async () => {
    const { c, puts, removed } = channel();
    const r = new ProgressReporter(attempt, c, (t) => t, 50);
    for (let i = 1; i <= 10_000; i++) r.report(i / 10_000, `item ${i}`);
    await waitFor('the last value written', () => puts.at(-1)?.message === 'item 10000');
    // The first at once, then the latest of the interval: two writes for ten thousand reports.
    expect(puts.map((p) => p.message)).toEqual(['item 1', 'item 10000']);
    expect(r.lastValue()).toMatchObject({ fraction: 1, message: 'item 10000' });
    await r.end();
    expect(removed).toEqual(['scan']);
    r.report(0.5);
    expect(r.lastValue()!.fraction).toBe(1);
  });

  it('ignores a fraction it refuses, masks the message, and keeps a value without a channel', () => {
    const r = new ProgressReporter(attempt, undefined, (t) => t.replace('hunter2', '***'));
    r.report(Number.NaN, 'no');
    expect(r.lastValue()).toBeNull();
    r.report(2, 'token hunter2');
    expect(r.lastValue()).toMatchObject({ fraction: 1, message: 'token ***' });
  });
});

describe('the time left of a task that goes quiet (docs/handlers.md#progress)', () => {
  // The docs' handler: 40% reported 4 s into the attempt, then nothing more for a while.
  const startedAt = '2026-01-01T00:00:00.000Z';
  const at = '2026-01-01T00:00:04.000Z';
  const reported = { fraction: 0.4, at, startedAt };
  const eta = new Date(Date.parse(at) + etaMs(reported)!).toISOString();
  const secondsOn = (s: number) => Date.parse(at) + s * 1000;

  it("estimates from the attempt's start, not from the last report: 4 s for 40% leaves 6 s", () => {
    expect(eta).toBe('2026-01-01T00:00:10.000Z');
    expect(etaLeft({ fraction: 0.4, eta }, secondsOn(0))).toBe(6_000);
  });

  it('counts down with the time since the last report while the task is quiet', () => {
    expect(etaText({ fraction: 0.4, eta }, secondsOn(0))).toBe('ETA 6s');
    expect(etaText({ fraction: 0.4, eta }, secondsOn(2))).toBe('ETA 4s');
    expect(etaText({ fraction: 0.4, eta }, secondsOn(5.5))).toBe('ETA 1s');
  });

  it('says overdue once the estimate has passed, never a finished-sounding 0s at 40%', () => {
    for (const s of [6, 7, 60, 3600]) {
      expect(etaLeft({ fraction: 0.4, eta }, secondsOn(s))).toBe('overdue');
      expect(etaText({ fraction: 0.4, eta }, secondsOn(s))).toBe('ETA overdue');
    }
    const line = progressText({ fraction: 0.4, at, attempt: 1, live: true, startedAt, eta }, secondsOn(30), 10);
    expect(line).toBe('████░░░░░░ 40% ETA overdue');
  });

  it('a value reported done is done: 0s, not overdue; no estimate, no ETA', () => {
    const done = { fraction: 1, at, startedAt };
    const doneAt = new Date(Date.parse(at) + etaMs(done)!).toISOString();
    expect(etaText({ fraction: 1, eta: doneAt }, secondsOn(3))).toBe('ETA 0s');
    expect(etaLeft({ fraction: 0.4 }, secondsOn(3))).toBeNull();
    expect(etaLeft({ fraction: 0.4, eta: 'not a time' }, secondsOn(3))).toBeNull();
  });
});

describe("status and watch's rendering", () => {
  it('draws a bar, the percentage, the ETA and the message', () => {
    expect(progressBar(0.4, 10)).toBe('████░░░░░░');
    expect(progressBar(0.999, 10)).toBe('█████████░');
    const now = Date.parse('2026-01-01T00:00:10.000Z');
    expect(etaText({ fraction: 0.4, eta: '2026-01-01T00:00:22.000Z' }, now)).toBe('ETA 12s');
    expect(etaText({ fraction: 0.4, eta: '2026-01-01T00:03:15.000Z' }, now)).toBe('ETA 3m 05s');
    expect(etaText({ fraction: 0.4 }, now)).toBe('');
    expect(
      progressText(
        {
          fraction: 0.4,
          message: 'scanned 400 of 1000',
          at: '',
          attempt: 1,
          live: true,
          eta: '2026-01-01T00:00:22.000Z',
        },
        now,
        10,
      ),
    ).toBe('████░░░░░░ 40% ETA 12s  scanned 400 of 1000');
    // Kept after the attempt ended: no ETA.
    expect(progressText({ fraction: 1, at: '', attempt: 1 }, now, 10)).toBe('██████████ 100%');
  });
});
