/**
 * GET /api/definitions/:id/stats: the same JSON as `ledgerflow stats <id> --json` (src/stats), for the definition
 * page's Metrics section. The definition shown (the version asked for, else the newest) says which figures come first;
 * a workflow known here without runs has figures of zero runs rather than a 404.
 */
import { parseRunQuery } from '../query/index.js';
import { loadWorkflowStats, type WorkflowStats } from '../stats/index.js';
import type { Backend } from './backend.js';
import { versionsOf } from './definitions.js';
import { ApiError } from './errors.js';

export async function definitionStats(
  backend: Backend,
  id: string,
  raw: { since?: string | undefined; version?: string | undefined },
  now: number,
): Promise<WorkflowStats> {
  const versions = versionsOf(await backend.definitions(), id);
  // `since` as GET /api/runs takes it (ISO or 24h), refused with the same words.
  const { since } = parseRunQuery({ since: raw.since }, 'http', now);
  let version: number | undefined;
  if (raw.version !== undefined && raw.version !== '') {
    version = Number(raw.version);
    if (!Number.isInteger(version) || version < 1)
      throw new ApiError(400, 'LF_INPUT_INVALID', `version: ${JSON.stringify(raw.version)} is not a version number`, {
        field: 'version',
      });
  }
  const shown = version === undefined ? versions[0]! : (versions.find((d) => d.version === version) ?? versions[0]!);
  return loadWorkflowStats(
    backend.runs,
    backend.store,
    { workflow: id, ...(since !== undefined ? { since } : {}), ...(version !== undefined ? { version } : {}) },
    shown.definition,
  );
}
