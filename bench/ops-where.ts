/**
 * `npm run bench -- ops` (a default section): `ops.where_ratio`, a `--where`
 * query over 100,000 run records (RUNS to change it) divided by the plain
 * `list` filter (`--status completed`) over the same records, both through
 * the RecordSet every run index answers from (what a warm `list`, a live
 * dashboard and `GET /api/runs` pay once the records are loaded). The records
 * are built synthetically from the golden history with search attributes
 * (its record cloned under new run ids, start times and attribute values),
 * not by running 100,000 workflows: loading them is the list section's
 * figure; this one is the filter's cost alone.
 */
import { readFileSync } from 'node:fs';
import type { EventEnvelope } from '../src/events/index.js';
import { parseRunQuery, recordOf, type RunQuery, type RunRecord } from '../src/query/index.js';
import { RecordSet } from '../src/query/record-set.js';
import { fmt, type Bench } from './kit.js';

const HISTORY = new URL(
  '../test/fixtures/histories/lead_qualification/scenario-search-attributes.jsonl',
  import.meta.url,
);

function records(n: number): RunRecord[] {
  const events = readFileSync(HISTORY, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
  const base = recordOf(events);
  const t0 = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, i) => ({
    ...base,
    runId: `w${String(i).padStart(6, '0')}`,
    status: i % 10 === 0 ? 'FAILED' : 'COMPLETED',
    startedAt: new Date(t0 + i * 60_000).toISOString(),
    search: {
      company: String(i % 1000),
      budget: i % 5000,
      received: new Date(t0 + i * 60_000).toISOString(),
      hot: i % 7 === 0,
    },
  }));
}

/** Median ms of `rounds` queries. */
function timed(set: RecordSet, q: RunQuery, rounds: number): { ms: number; total: number } {
  const ms: number[] = [];
  let total = 0;
  for (let k = 0; k < rounds; k++) {
    const t = performance.now();
    total = set.page(q, 'newest').total;
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[Math.floor(ms.length / 2)]!, total };
}

export async function benchOpsWhere(b: Bench): Promise<void> {
  const n = b.quick ? 5_000 : Number(process.env.RUNS ?? 100_000);
  const rounds = b.rounds ?? (b.quick ? 5 : 15);
  const set = new RecordSet();
  set.putAll(records(n));
  const now = Date.now();
  const plainQ = parseRunQuery({ status: 'completed', limit: '50' }, 'cli', now);
  const whereQ = parseRunQuery({ where: 'company=42', limit: '50' }, 'cli', now);
  const twoQ = parseRunQuery({ where: ['budget>=2500', 'hot=true'], status: 'completed', limit: '50' }, 'cli', now);
  // Warm up both (JIT), then interleave so load changes touch both alike.
  timed(set, plainQ, 3);
  timed(set, whereQ, 3);
  const plain: number[] = [];
  const where: number[] = [];
  for (let k = 0; k < 3; k++) {
    plain.push(timed(set, plainQ, rounds).ms);
    where.push(timed(set, whereQ, rounds).ms);
  }
  const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[1]!;
  const two = timed(set, twoQ, rounds);
  const ratio = med(where) / med(plain);
  b.figures['ops.where_ratio'] = Math.round(ratio * 100) / 100;
  b.details.ops = {
    runs: n,
    rounds,
    plainMs: med(plain),
    whereMs: med(where),
    twoConditionsMs: two.ms,
    whereTotal: timed(set, whereQ, 1).total,
    plainTotal: timed(set, plainQ, 1).total,
    twoConditionsTotal: two.total,
    synthetic: true,
  };
  b.say(
    `ops: --where over ${n} runs ${fmt(med(where), 1)} ms, plain --status ${fmt(med(plain), 1)} ms: ops.where_ratio ${fmt(ratio, 2)} (two conditions with --status: ${fmt(two.ms, 1)} ms)`,
  );
}
