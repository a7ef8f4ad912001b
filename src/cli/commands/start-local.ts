/**
 * `ledgerflow start <workflow>` on the embedded store (as 3OX writes it:
 * `workflow start inventory-validation-v1 --target_folder "0UT.3OX"`): the
 * definition is found by its id — the project's `definitions/` first, then
 * the definitions bundled with ledgerflow — and run here as `run` runs a
 * file; `--detach` records the start, prints the run id and leaves the run to
 * `ledgerflow serve`. Over NATS, `start` starts a deployed workflow
 * (cluster.ts).
 */
import { actingUser, runsActing } from '../flags/acting.js';
import { embeddedRuns } from '../../runs/embedded.js';
import { readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { bundledDefaults, definitionFilesIn, loadDefinitionFile, mayDeclare, packageRoot, type LoadedDefinition } from '../../files/index.js';
import { EXIT } from '../render/exit.js';
import { gatherInputs } from '../flags/inputs.js';
import { json, type Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';
import { splitTail, type OptionSpec } from '../flags/tail.js';
import { callerIdFlags } from '../flags/run-id.js';

type Found = LoadedDefinition;

/** The `.yaml` definitions of a folder that may define `id` (named so, or whose text may declare it: only those are parsed) and load; a file that does not load is passed over (`validate` says why). */
function candidatesIn(dir: string, id: string): Found[] {
  const out: Found[] = [];
  for (const file of definitionFilesIn(dir)) {
    try {
      if (basename(file).replace(/\.ya?ml$/, '') !== id && !mayDeclare(readFileSync(file, 'utf8'), id)) continue;
      out.push(loadDefinitionFile(file));
    } catch {
      // Not a definition that loads: not a candidate.
    }
  }
  return out;
}

/**
 * The file of `ref` (`<workflowId>` or `<workflowId>@<version>`; a file's name without `.yaml` is taken too, so
 * `inventory-validation` finds `inventory-validation.yaml`, whose id is inventory-validation-v1): the newest version
 * in the first folder that has the workflow. Two files with the same id and version there are an error naming both.
 */
export function findDefinition(ref: string, cwd = process.cwd()): Found {
  const at = ref.lastIndexOf('@');
  const id = at > 0 ? ref.slice(0, at) : ref;
  const version = at > 0 ? Number(ref.slice(at + 1)) : undefined;
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
    throw new UsageError(`${ref}: the version after @ is a whole number from 1, e.g. ${id}@2`, { workflow: ref });
  }
  const folders = [resolve(cwd, 'definitions'), join(packageRoot(), 'definitions')];
  const seen = new Set<string>();
  for (const dir of folders) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const all = candidatesIn(dir, id);
    let matches = all.filter((f) => f.definition.id === id);
    if (matches.length === 0) matches = all.filter((f) => basename(f.file).replace(/\.ya?ml$/, '') === id);
    if (version !== undefined) matches = matches.filter((f) => f.definition.version === version);
    if (matches.length === 0) continue;
    const top = Math.max(...matches.map((f) => f.definition.version));
    const newest = matches.filter((f) => f.definition.version === top);
    if (newest.length > 1) {
      throw new UsageError(`${ref} is defined by ${newest.length} files in ${relative(cwd, dir) || dir}: ${newest.map((f) => relative(cwd, f.file)).join(', ')}; give each its own id or version, or run one file with \`ledgerflow run <file>\``, { workflow: ref, files: newest.map((f) => f.file) });
    }
    return newest[0]!;
  }
  throw new UsageError(`no definition of ${ref} in ./definitions or among the bundled ones (\`ledgerflow templates\` lists them); run a file with \`ledgerflow run <file>\`, or start a deployed workflow over NATS with --nats`, { workflow: ref });
}

export interface StartLocalOpts { inputFile?: string; input?: string; json?: boolean; detach?: boolean }

/** `start` without NATS: found, then run as `run` does, or with --detach only recorded. */
export async function startLocal(io: Io, g: GlobalOpts, ref: string, tail: string[], given: StartLocalOpts, specs: OptionSpec[], help: () => number): Promise<number> {
  const found = findDefinition(ref);
  const split = splitTail(tail, specs, found.definition);
  if (split.help) return help();
  const opts = { ...given, ...split.options } as StartLocalOpts & { id?: string; idReuse?: string; priority?: string };
  if (!opts.detach) {
    const { runCmd } = await import('./run.js');
    return runCmd(io, g, found.file, tail, given, specs, help);
  }
  // Notifications are sent by the process that drives the run: with --detach that is `serve`, which takes the flag.
  if ((opts as { notifications?: unknown }).notifications !== undefined) throw new UsageError('start --detach: --notifications goes to the process that drives the run; give it to `ledgerflow serve --notifications <file>` (or start without --detach)', { option: '--notifications' });
  const gg: GlobalOpts = { ...g, ...split.globals };
  const { checkPriority } = await import('../../limits/index.js');
  const priority = checkPriority(opts.priority, '--priority');
  const { runId: callerId, idReuse } = callerIdFlags(opts);
  const raw = { ...bundledDefaults(found.definition, found.file), ...gatherInputs(opts, split.inputs) };
  const { engineFor } = await import('../drive.js');
  const engine = engineFor(gg);
  const { definition } = found;
  // Judged and recorded by the run API: the bridge's (L1), or a Station OPS's (L2) for a workflow of its domains.
  const acting = await actingUser(undefined);
  const runApi = embeddedRuns({ engine, store: engine.store, fallback: acting.name });
  const started = await runApi.start({
    definition, input: raw, inputFromStrings: true, source: { file: found.file, ...(found.handlersPath ? { handlers: found.handlersPath } : {}) },
    ...(callerId !== undefined ? { runId: callerId, ...(idReuse ? { idReuse } : {}) } : {}), ...(priority !== undefined ? { priority } : {}),
  }, runsActing(acting));
  if (started.existing && !opts.json) io.err(`run ${started.runId} exists already (${started.status}): not started again`);
  io.out(opts.json ? json({ runId: started.runId, workflowId: started.workflowId, version: started.version, status: started.status, ...(started.existing ? { existing: true } : {}) })
    : started.existing ? started.runId : `${started.runId}\n  recorded, not driven here: \`ledgerflow serve\` runs it (or \`ledgerflow resume ${started.runId}\`)`);
  return EXIT.ok;
}
