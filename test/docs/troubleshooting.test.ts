/**
 * docs/troubleshooting.md lists every error code ledgerflow can raise: the
 * codes of src/errors/codes.ts, and each `LF_…` string of src/ is one of them
 * except the names below, which are not errors. A new code fails this test
 * until the table has it and the page says what it means and how to fix it; a
 * code the page lists that the table no longer has fails it too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { ERROR_CODES, ERROR_KINDS, kindOf } from '../../src/errors/index.js';

/** `LF_…` names in src/ that are not error codes: NATS streams and KV buckets, the environment of a COMMAND's program. */
const NOT_CODES = new Set([
  // streams
  'LF_EVENTS',
  'LF_INPUTS',
  'LF_TIMERS',
  'LF_APPROVALS',
  'LF_SIGNALS',
  'LF_CONTROL',
  'LF_REQUESTS',
  'LF_UPLOADS',
  'LF_TRIGGERS',
  'LF_DLQ',
  'LF_DLQ_WORKERS',
  'LF_TASKS',
  'LF_TASKS_',
  'LF_TRIGGER_LOG',
  // KV buckets
  'LF_DEFINITIONS',
  'LF_ATTEMPTS',
  'LF_KEYS',
  'LF_SNAPSHOTS',
  'LF_SCHEDULES',
  'LF_RUNS_INDEX',
  'LF_ENGINE',
  'LF_TRIGGER_GATES',
  'LF_ADMISSION',
  'LF_TASK_GATES',
  'LF_SECRETS',
  // the large payloads' Object Store bucket
  'LF_BLOBS',
  'LF_PROGRESS',
  'LF_ARCHIVE_INDEX',
  // Object Store buckets
  'LF_ARCHIVE',
  // what a COMMAND task's program finds in its environment
  'LF_RUN_ID',
  'LF_WORKFLOW_ID',
  'LF_TASK_ID',
  'LF_ATTEMPT',
  'LF_IDEMPOTENCY_KEY',
  'LF_INIT_CWD',
  // the cluster configs' route password (nats-cluster.conf, docs/nats.md#routes-credentials-and-tls)
  'LF_ROUTE_PASSWORD',
  // the hub's leaf port password of `dev --leaf-port` (docs/nats.md#stations)
  'LF_LEAF_PASSWORD',
  // the secret holding the data key of encryption at rest (docs/security.md)
  'LF_DATA_KEY',
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
  // The table itself names them all: the rest of src/ says which are raised.
  for (const file of sources(join(ROOT, 'src')).filter((f) => !f.endsWith(join('errors', 'codes.ts')))) {
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

  const inTable = new Set(Object.keys(ERROR_CODES));

  it('every code src/ quotes is in the table of codes (src/errors/codes.ts), with its kind', () => {
    expect(inSource.size).toBeGreaterThan(100);
    const untabled = [...inSource].filter(([code]) => !inTable.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(
      untabled,
      `add each to ERROR_CODES in src/errors/codes.ts with its kind, or to NOT_CODES here if it is a name: ${untabled.join(', ')}`,
    ).toEqual([]);
    const unused = [...inTable].filter((code) => !inSource.has(code));
    expect(unused, `remove from ERROR_CODES (src/ no longer raises them): ${unused.join(', ')}`).toEqual([]);
  });

  it('lists every code of the table, with its meaning and fix', () => {
    const missing = [...inTable].filter((code) => !onPage.has(code));
    expect(
      missing,
      `add a row for each to docs/troubleshooting.md (what it means, how to fix it): ${missing.join(', ')}`,
    ).toEqual([]);
  });

  it('lists no code that the table no longer has', () => {
    const stale = [...onPage].filter((code) => !inTable.has(code));
    expect(stale, `remove from docs/troubleshooting.md, or add to ERROR_CODES: ${stale.join(', ')}`).toEqual([]);
  });

  it('says each code with its kind, as the table gives it', () => {
    const text = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
    const wrong = [...text.matchAll(/^\| `(LF_[A-Z0-9_]+)` \| ([a-z ]+) \|/gm)]
      .filter((m) => m[2]!.replace(' ', '_') !== (ERROR_CODES as Record<string, string>)[m[1]!])
      .map((m) => `${m[1]} (page: ${m[2]}, table: ${kindOf(m[1]!)})`);
    expect(wrong).toEqual([]);
    for (const [kind, { exit, http }] of Object.entries(ERROR_KINDS)) {
      expect(text, `the kinds table's row for ${kind}`).toContain(`| ${kind.replace('_', ' ')} | `);
      expect(text).toMatch(new RegExp(`^\\| ${kind.replace('_', ' ')} \\| [^|]+ \\| ${exit} \\| ${http} \\|$`, 'm'));
    }
  });

  it("each kind is one exit code and one HTTP status, and a handler's own code is a failure", () => {
    expect(ERROR_KINDS[kindOf('LF_RUN_NOT_FOUND')]).toEqual({ exit: 2, http: 404 });
    expect(ERROR_KINDS[kindOf('LF_PAUSE_REFUSED')]).toEqual({ exit: 2, http: 409 });
    expect(ERROR_KINDS[kindOf('LF_STORE')]).toEqual({ exit: 1, http: 503 });
    expect(kindOf('PAYMENT_DECLINED')).toBe('failure');
  });

  it('lists each code once', () => {
    const text = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `(LF_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(rows.filter((c, i) => rows.indexOf(c) !== i)).toEqual([]);
  });
});
