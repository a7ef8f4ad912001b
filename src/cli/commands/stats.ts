/**
 * `ledgerflow stats <workflow>`: the workflow's figures (src/stats) from the run index, on either store. The table
 * shows the figures the definition's monitoring.metrics lists, in its order (all four when it lists none); --json
 * always carries every figure, in one shape on both stores, with `metrics` naming the listed ones.
 */
import type { MonitoringMetric } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';
import { openRunIndex, parseRunQuery } from '../../query/index.js';
import { loadWorkflowStats, type WorkflowStats } from '../../stats/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import { cacheFolder } from '../cached-code.js';
import { corruptText, durationText, indexProgressText } from '../render/list.js';
import type { CorruptRun } from '../../store/index.js';
import type { GlobalOpts } from '../flags/store.js';

/** `workflowVersion`: --version as main() hands it over (tail.ts), so the program's own --version does not answer it. */
export interface StatsOpts {
  since?: string;
  version?: string;
  workflowVersion?: string;
  json?: boolean;
}

export async function statsCmd(io: Io, g: GlobalOpts, workflow: string, opts: StatsOpts): Promise<number> {
  // --since as `list` takes it (an ISO time or 24h), with the same words when it is wrong.
  const { since } = parseRunQuery({ workflow, since: opts.since }, 'cli', Date.now());
  const version = versionOf(opts.workflowVersion ?? opts.version);
  const store = storeFor(g);
  // A run whose log cannot be read is not counted, and said once (as `list` says it).
  const corrupt = new Map<string, CorruptRun>();
  // On NATS the runs' start order and figures are kept in the CLI's cache folder (docs/queries.md, NATS), as `list` keeps them.
  const pageCacheDir = cacheFolder() ?? undefined;
  const index = openRunIndex({
    store,
    ...(pageCacheDir ? { pageCacheDir } : {}),
    onCorrupt: (c) => corrupt.set(c.runId, c),
    onWarning: (m) => io.err(`warning: ${inert(m)}`),
    onProgress: (n, of) => io.err(indexProgressText(n, of)),
  });
  let stats: WorkflowStats;
  try {
    stats = await loadWorkflowStats(index, store, {
      workflow,
      ...(since !== undefined ? { since } : {}),
      ...(version !== undefined ? { version } : {}),
    });
  } finally {
    await index.close();
  }
  io.out(opts.json ? json(stats) : statsText(stats));
  for (const c of corrupt.values()) io.err(corruptText(c));
  return EXIT.ok;
}

function versionOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw.replace(/^v/, ''));
  if (!Number.isInteger(v) || v < 1)
    throw new UsageError(`--version ${JSON.stringify(raw)} is not a version: use a whole number, e.g. --version 2`, {
      option: '--version',
    });
  return v;
}

const pct = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const ms = (v: number | null) => (v === null ? '-' : durationText(v));

/** The table: runs, then each figure shown (the definition's monitoring.metrics, else all). */
export function statsText(s: WorkflowStats): string {
  const scope = [
    s.version === null ? 'every version' : `version ${s.version}`,
    s.since === null ? 'every run' : `runs started since ${s.since}`,
  ].join(', ');
  const r = s.runs;
  const rows: Row[] = [
    row(
      'runs',
      `${r.total}`,
      `${r.completed} completed, ${r.failed} failed, ${r.cancelled} cancelled, ${r.active} not settled`,
    ),
  ];
  for (const m of s.metrics) rows.push(...figureLines(s, m));
  const lines = [`${inert(s.workflowId)}  (${scope})`, ...rowLines(rows)];
  if (s.versions.length > 1) {
    lines.push('', 'VERSION  RUNS  FAILED  P50      P95      TASK SUCCESS  RETRIES');
    for (const v of s.versions) {
      lines.push(
        [
          `v${v.version}`.padEnd(7),
          String(v.runs.total).padEnd(4),
          String(v.runs.failed).padEnd(6),
          ms(v.execution_time.p50Ms).padEnd(7),
          ms(v.execution_time.p95Ms).padEnd(7),
          pct(v.task_success_rate.rate).padEnd(12),
          String(v.retry_count.total),
        ].join('  '),
      );
    }
  }
  lines.push(
    '',
    s.metricsFrom === 'definition'
      ? `figures: the definition's monitoring.metrics (${s.metrics.join(', ')}); --json has every figure`
      : 'figures: all (the definition lists no monitoring.metrics)',
  );
  return lines.join('\n');
}

function figureLines(s: WorkflowStats, m: MonitoringMetric): Row[] {
  switch (m) {
    case 'execution_time': {
      const e = s.execution_time;
      return [
        row(
          m,
          `p50 ${ms(e.p50Ms)}`,
          `p95 ${ms(e.p95Ms)}  mean ${ms(e.meanMs)}  max ${ms(e.maxMs)}  (${e.settled} settled runs)`,
        ),
      ];
    }
    case 'task_success_rate': {
      const t = s.task_success_rate;
      return [
        row(m, pct(t.rate), `${t.completed} of ${t.settled} settled tasks completed`),
        ...Object.entries(t.tasks).map(([id, x]) => row(`  ${inert(id)}`, pct(x.rate), `${x.completed}/${x.settled}`)),
      ];
    }
    case 'retry_count': {
      const c = s.retry_count;
      return [
        row(m, String(c.total), `attempts beyond the first, in ${c.runsWithRetries} runs`),
        ...Object.entries(c.tasks)
          .filter(([, n]) => n > 0)
          .map(([id, n]) => row(`  ${inert(id)}`, String(n), '')),
      ];
    }
    case 'failure_rate': {
      const f = s.failure_rate;
      return [row(m, pct(f.rate), `${f.failed} of ${f.settled} completed or failed runs failed`)];
    }
  }
}

interface Row {
  name: string;
  value: string;
  note: string;
}

const row = (name: string, value: string, note: string): Row => ({ name, value, note });

/**
 * The rows as columns: each as wide as its longest cell and two spaces apart, so a long task id
 * (`  approve_plan_change`) never runs into its figure.
 */
function rowLines(rows: Row[]): string[] {
  const nameWidth = Math.max(20, ...rows.map((x) => x.name.length + 2));
  const valueWidth = Math.max(12, ...rows.filter((x) => x.note).map((x) => x.value.length));
  return rows.map((x) =>
    `${x.name.padEnd(nameWidth)}${x.note ? `${x.value.padEnd(valueWidth)}  ${x.note}` : x.value}`.trimEnd(),
  );
}
