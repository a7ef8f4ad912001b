/**
 * The definition routes of the HTTP app: the agents view, the dependency map of workflows, the deployed definitions and
 * their versions, stats, diffs and replay verdicts. Read-only; apart from app.ts so each file holds one kind of route.
 * createApp calls definitionRoutes in place.
 */
import type { Hono } from 'hono';
import { workflowGraph } from '../definition/index.js';
import { workflowMap } from '../coordination/index.js';
import type { Backend } from './backend.js';
import { diffVersions, replayVerdict, validOf, versionsOf } from './definitions.js';
import { definitionStats } from './definition-stats.js';
import { ApiError } from './errors.js';
import { agentsView } from './agents.js';

// biome-ignore lint/suspicious/noExplicitAny: the app's own Env (its auth variable) is app.ts's; these routes read no auth.
export function definitionRoutes(app: Hono<any>, backend: Backend): void {
  // The dependency map of workflows (docs/coordination.md): the latest valid version of each, as `ledgerflow map --json`.
  app.get('/api/agents', async (c) => c.json(await agentsView(backend)));
  app.get('/api/map', async (c) => c.json(workflowMap(validOf(await backend.definitions()))));

  app.get('/api/definitions', async (c) => {
    const all = await backend.definitions();
    const ids = [...new Set(all.map((d) => d.id))];
    return c.json({
      workflows: ids.map((id) => {
        const versions = all.filter((d) => d.id === id);
        const latest = versions[0]!;
        return {
          id,
          name: latest.definition?.name ?? id,
          latest: latest.version,
          versions: versions.map((d) => ({
            version: d.version,
            source: d.source,
            ...(d.file ? { file: d.file } : {}),
            valid: d.definition !== null,
            problems: d.problems.length,
          })),
          inputs: latest.definition?.inputs ?? [],
        };
      }),
    });
  });
  app.get('/api/definitions/:id', async (c) => {
    const versions = versionsOf(await backend.definitions(), c.req.param('id'));
    const v = c.req.query('version');
    const chosen = v === undefined ? versions[0]! : versions.find((d) => String(d.version) === v);
    if (!chosen)
      throw new ApiError(404, 'LF_DEFINITION_NOT_FOUND', `workflow ${c.req.param('id')} has no version ${v}`);
    return c.json({
      id: chosen.id,
      version: chosen.version,
      versions: versions.map((d) => d.version),
      source: chosen.source,
      ...(chosen.file ? { file: chosen.file } : {}),
      yaml: chosen.yaml,
      ...(chosen.deployedText ? { deployedText: true } : {}),
      problems: chosen.problems,
      definition: chosen.definition,
      graph: chosen.definition ? workflowGraph(chosen.definition) : null,
    });
  });
  app.get('/api/definitions/:id/stats', async (c) =>
    c.json(
      await definitionStats(
        backend,
        c.req.param('id'),
        { since: c.req.query('since'), version: c.req.query('version') },
        Date.now(),
      ),
    ),
  );
  app.get('/api/definitions/:id/diff', async (c) =>
    c.json(
      diffVersions(versionsOf(await backend.definitions(), c.req.param('id')), c.req.query('from'), c.req.query('to')),
    ),
  );
  app.get('/api/definitions/:id/verdict', async (c) =>
    c.json(
      await replayVerdict(
        backend.store,
        versionsOf(await backend.definitions(), c.req.param('id')),
        c.req.query('version'),
      ),
    ),
  );
}
