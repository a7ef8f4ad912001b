/**
 * `ledgerflow map [--definitions dir] [--json]`: the dependency map of workflows (src/coordination): which starts
 * which, by sub-workflow, MAP, EMIT → event trigger, or failure workflow. Embedded: the definitions folder; NATS: the
 * deployed workflows. `--json` prints the map, one shape on both.
 */
import { workflowMap, workflowMapText } from '../../coordination/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';

export async function mapCmd(io: Io, g: GlobalOpts, opts: { json?: boolean; definitions?: string }): Promise<number> {
  const definitions = await (await sideFor(g)).definitions(opts.definitions, io.err);
  // Newest version of each workflow first: the map is of what starts now.
  const map = workflowMap([...definitions].sort((a, b) => b.version - a.version));
  io.out(opts.json ? JSON.stringify(map, null, 2) : workflowMapText(map, inert));
  return EXIT.ok;
}
