/**
 * `ledgerflow migrate <workflow> --to <version>`: every unsettled run of the workflow (or those --query picks among
 * them) judged against the new version by replaying its history under it (executor/migrate.ts), and with no --dry-run
 * each run that can take over given a run.migrated and going on under the new version; the others are left as they are,
 * listed with why (docs/runs.md#migrating-in-flight-runs).
 */
import { existsSync } from 'node:fs';
import { workflowOf, type CompiledWorkflow } from '../../compiler/index.js';
import type { Definition } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';
import {
  checkTaskMap,
  migrateRuns,
  migrationAnswer,
  migrationCounts,
  type MigrationRow,
} from '../../executor/index.js';
import { loadDefinitionFile } from '../../files/index.js';
import { unsettledRunIds } from '../../query/index.js';
import type { TaskMap } from '../../runtime/index.js';
import type { EventStore } from '../../store/index.js';
import { inert } from '../../terminal/index.js';
import { requireLevel } from '../flags/acting.js';
import { actingFor, sideFor } from '../runs.js';
import { queryWords } from './bulk.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor, useStore } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';

export interface MigrateOpts {
  to: string;
  map?: string[];
  query?: string;
  dryRun?: boolean;
  as?: string;
  json?: boolean;
}

/** `--map old=new` (repeatable) → the task map. */
export function parseTaskMap(pairs: readonly string[] = []): TaskMap {
  const map: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(p.trim());
    if (!m)
      throw new UsageError(`--map ${p}: write old_task=new_task (one pair per --map)`, { option: '--map', value: p });
    if (map[m[1]!] !== undefined) throw new UsageError(`--map names task ${m[1]} twice`, { option: '--map', value: p });
    map[m[1]!] = m[2]!;
  }
  return map;
}

/** `--to`: a version number of the workflow (embedded: in ./definitions or the bundled ones; NATS: deployed), or a definition file. */
async function targetOf(g: GlobalOpts, workflowId: string, to: string): Promise<Definition> {
  let def: Definition;
  if (/^\d+$/.test(to)) {
    def = await (await sideFor(g)).version(`${workflowId}@${to}`);
  } else if (/\.ya?ml$/.test(to) || existsSync(to)) {
    def = loadDefinitionFile(to).definition;
  } else {
    throw new UsageError(
      `--to ${to}: give a version number of ${workflowId} (e.g. --to 2) or a definition file (e.g. --to definitions/${workflowId}-v2.yaml)`,
      { option: '--to', value: to },
    );
  }
  if (def.id !== workflowId)
    throw new UsageError(
      `--to ${to} is workflow ${def.id}, not ${workflowId}: a version takes over runs of its own workflow only`,
      { option: '--to', value: to },
    );
  return def;
}

/** The unsettled runs of the workflow the query picks (every one without --query): the run index's, as `check` judges them. */
async function runsToJudge(
  store: EventStore,
  workflowId: string,
  queryText: string | undefined,
  warn: (m: string) => void,
): Promise<string[]> {
  const { workflow, ...filters } = queryText !== undefined ? queryWords(queryText) : {};
  if (workflow !== undefined && workflow !== workflowId)
    throw new UsageError(`--query workflow=${String(workflow)} is not ${workflowId}`, { option: '--query' });
  return unsettledRunIds(store, workflowId, filters, warn);
}

const VERDICT_TEXT: Record<MigrationRow['verdict'], string> = {
  as_is: 'takes over as is',
  with_map: 'takes over with the task map',
  cannot: 'cannot',
  already: 'already on',
};

function rowText(r: MigrationRow, to: CompiledWorkflow): string {
  const head = `  ${r.runId}  ${r.status}  v${r.from}  `;
  if (r.verdict === 'already') return `${head}already on version ${to.definition.version}`;
  if (r.sealedFrom)
    return `${head}not judged past event ${r.sealedFrom.seq - 1}: read without the data key, its course turned on sealed values from event ${r.sealedFrom.seq} (set LF_DATA_KEY to judge it whole)`;
  if (r.verdict === 'cannot') {
    const d = r.divergence!;
    return `${head}cannot: event ${d.seq} (${d.type}): ${inert(d.reason)}`;
  }
  const mapped =
    r.verdict === 'with_map'
      ? ` (${Object.entries(r.map ?? {})
          .map(([a, b]) => `${a}=${b}`)
          .join(' ')})`
      : '';
  if (r.refused) return `${head}${VERDICT_TEXT[r.verdict]}${mapped}, but left as it is: ${inert(r.refused.message)}`;
  return `${head}${VERDICT_TEXT[r.verdict]}${mapped}${r.migrated ? ' → migrated' : ''}`;
}

export async function migrateCmd(io: Io, g: GlobalOpts, workflowId: string, opts: MigrateOpts): Promise<number> {
  const map = parseTaskMap(opts.map);
  await useStore(g);
  const target = workflowOf(await targetOf(g, workflowId, opts.to));
  checkTaskMap(map, target);
  // Who migrates: with a users file, an L1 (as deploy); judged before any run is touched.
  const acting = await actingFor(g, opts.as);
  if (!opts.dryRun) requireLevel(acting, 'deploy', { workflowId });
  const store = storeFor(g);
  const ids = await runsToJudge(store, workflowId, opts.query, (m) => io.err(`warning: ${inert(m)}`));
  const rows = await migrateRuns(store, ids, target, map, {
    dryRun: opts.dryRun === true,
    by: acting.name ?? process.env.LEDGERFLOW_USER ?? process.env.USER ?? 'unknown',
    now: () => new Date().toISOString(),
  });
  const counts = migrationCounts(rows);
  if (opts.json) io.out(json(migrationAnswer(target, map, opts.dryRun === true, rows)));
  else {
    const v = `${workflowId} v${target.definition.version}`;
    if (rows.length === 0)
      io.out(
        `no unsettled run of ${workflowId}${opts.query !== undefined ? ` matches ${opts.query}` : ''}; nothing to migrate`,
      );
    else {
      io.out(
        `${rows.length} unsettled run(s) of ${workflowId} judged against ${v}: ${counts.as_is} take over as is, ${counts.with_map} with the task map, ${counts.cannot} cannot, ${counts.already} already on it${counts.unjudged > 0 ? `, ${counts.unjudged} judged only in part (no data key)` : ''}`,
      );
      for (const r of rows) io.out(rowText(r, target));
      io.out(
        opts.dryRun
          ? 'dry run: nothing changed'
          : `migrated ${counts.migrated} run(s) to ${v}${counts.refused > 0 ? `; ${counts.refused} left as they are (see above)` : ''}`,
      );
    }
  }
  return counts.cannot > 0 || counts.refused > 0 ? EXIT.failed : EXIT.ok;
}
