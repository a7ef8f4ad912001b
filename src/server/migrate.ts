/**
 * POST /api/definitions/:id/migrate (docs/runs.md#migrating-in-flight-runs, docs/dashboard.md): the CLI's `migrate`
 * over HTTP, the same JSON. A dry run judges every unsettled run of the workflow (those `query` matches) against
 * version `to`; the real one must carry as `confirm` how many would take over (a 409 with the new count when runs moved
 * meanwhile), as a bulk action does, so a click never migrates more than the person saw. The runs are migrated as the
 * signed-in person (`actions.migrate`: L1 with a users file; over NATS, their own connection).
 */
import { workflowOf } from '../compiler/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { checkTaskMap, migrationAnswer, migrationCounts } from '../executor/index.js';
import { matchingRuns, parseRunQuery } from '../query/index.js';
import type { Actions } from './actions.js';
import type { Backend } from './backend.js';
import { ApiError } from './errors.js';
import { MigrateBody, parseBody } from './schemas.js';
import { validVersion } from './definitions.js';

export async function migrateRoute(
  backend: Pick<Backend, 'definitions' | 'runs'>,
  acts: Actions,
  workflowId: string,
  raw: unknown,
): Promise<Record<string, unknown>> {
  const body = parseBody(MigrateBody, raw);
  const pick = validVersion(await backend.definitions(), workflowId, body.to, 'to');
  const target = workflowOf(pick.definition);
  const map = body.map ?? {};
  try {
    checkTaskMap(map, target);
  } catch (err) {
    throw new ApiError(400, 'LF_INPUT_INVALID', `map: ${(err as Error).message.replace(/^--map /, '')}`, {
      field: 'map',
    });
  }
  if (body.query?.workflow !== undefined && body.query.workflow !== workflowId)
    throw new ApiError(400, 'LF_INPUT_INVALID', `query: workflow=${String(body.query.workflow)} is not ${workflowId}`, {
      field: 'query',
    });
  const query = parseRunQuery({ ...(body.query ?? {}), workflow: workflowId }, 'http', Date.now());
  const ids = (await matchingRuns(backend.runs, query))
    .filter((r) => !SETTLED_STATUSES.includes(r.status))
    .map((r) => r.runId)
    .reverse();
  const judged = await acts.migrate(ids, target, map, true);
  if (body.dryRun) return migrationAnswer(target, map, true, judged);
  const counts = migrationCounts(judged);
  const would = counts.as_is + counts.with_map;
  if (body.confirm !== would) {
    throw new ApiError(
      409,
      'LF_CONFIRM_MISMATCH',
      `${would} run(s) would take over now${body.confirm === undefined ? '' : `, not ${body.confirm}`}: send confirm: ${would} (after a dry run: dryRun: true lists them)`,
      { field: 'confirm' },
    );
  }
  return migrationAnswer(target, map, false, await acts.migrate(ids, target, map, false));
}
