/**
 * docs/troubleshooting.md lists every error code ledgerflow can raise: each
 * `LF_…` string of src/ is a code, except the names below, which are not
 * errors. A new code fails this test until the page says what it means and
 * how to fix it; a code the page lists that src/ no longer has fails it too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** `LF_…` names in src/ that are not error codes: NATS streams and KV buckets, the environment of a COMMAND's program. */
const NOT_CODES = new Set([
  // streams
  'LF_EVENTS', 'LF_INPUTS', 'LF_TIMERS', 'LF_APPROVALS', 'LF_SIGNALS', 'LF_CONTROL', 'LF_TRIGGERS', 'LF_DLQ', 'LF_DLQ_WORKERS', 'LF_TASKS', 'LF_TASKS_', 'LF_TRIGGER_LOG',
  // KV buckets
  'LF_DEFINITIONS', 'LF_ATTEMPTS', 'LF_KEYS', 'LF_SNAPSHOTS', 'LF_SCHEDULES', 'LF_RUNS_INDEX', 'LF_ENGINE', 'LF_TRIGGER_GATES', 'LF_ADMISSION', 'LF_TASK_GATES',
  // what a COMMAND task's program finds in its environment
  'LF_RUN_ID', 'LF_WORKFLOW_ID', 'LF_TASK_ID', 'LF_ATTEMPT', 'LF_IDEMPOTENCY_KEY', 'LF_INIT_CWD',
  // the cluster configs' route password (nats-cluster.conf, docs/nats.md#routes-credentials-and-tls)
  'LF_ROUTE_PASSWORD',
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every quoted `LF_…` string of src/, with the first file that has it. */
function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources(join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/['"`](LF_[A-Z0-9_]+)['"`]/g)) {
      if (!NOT_CODES.has(m[1]!) && !found.has(m[1]!)) found.set(m[1]!, relative(ROOT, file));
    }
  }
  return found;
}

/** The codes the page lists: the first cell of a table row. */
function codesOnPage(): Set<string> {
  const text = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `(LF_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

describe('docs/troubleshooting.md', () => {
  const inSource = codesInSource();
  const onPage = codesOnPage();

  it('lists every error code in src/, with its meaning and fix', () => {
    expect(inSource.size).toBeGreaterThan(100);
    const missing = [...inSource].filter(([code]) => !onPage.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing, `add a row for each to docs/troubleshooting.md (what it means, how to fix it): ${missing.join(', ')}`).toEqual([]);
  });

  it('lists no code that src/ no longer has', () => {
    const stale = [...onPage].filter((code) => !inSource.has(code));
    expect(stale, `remove from docs/troubleshooting.md, or add to NOT_CODES if src/ uses it as a name: ${stale.join(', ')}`).toEqual([]);
  });

  it('lists each code once', () => {
    const text = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `(LF_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(rows.filter((c, i) => rows.indexOf(c) !== i)).toEqual([]);
  });
});
