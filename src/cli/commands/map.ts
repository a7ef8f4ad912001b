/**
 * `ledgerflow map [--definitions dir] [--json]`: the dependency map of
 * workflows (src/coordination): which starts which, by sub-workflow, MAP,
 * EMIT → event trigger, or failure workflow. Embedded: the definitions
 * folder; NATS: the deployed workflows. `--json` prints the map, one shape on
 * both.
 */
import { workflowMap, workflowMapText } from '../../coordination/index.js';
import type { Definition } from '../../definition/index.js';
import { inert } from '../../terminal/index.js';
import { loadTriggerCatalog } from '../../triggers/index.js';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';

export async function mapCmd(io: Io, g: GlobalOpts, opts: { json?: boolean; definitions?: string }): Promise<number> {
  let definitions: readonly Definition[];
  if (usesNats(g)) {
    const { withClient } = await import('./cluster.js');
    definitions = await withClient(g, (c) => c.deployed());
  } else {
    const catalog = loadTriggerCatalog({ ...(opts.definitions ? { definitionsDir: opts.definitions } : {}) });
    for (const skipped of catalog.skipped) io.err(`skipped ${skipped.reason}`);
    definitions = catalog.definitions;
  }
  // Newest version of each workflow first: the map is of what starts now.
  const map = workflowMap([...definitions].sort((a, b) => b.version - a.version));
  io.out(opts.json ? JSON.stringify(map, null, 2) : workflowMapText(map, inert));
  return EXIT.ok;
}
