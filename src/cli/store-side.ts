/**
 * What a command asks of its store besides its runs (src/runs/), answered per store: here for the embedded one, in
 * side-nats.ts for NATS, chosen once by runs.ts (sideFor), so that no command asks which store it is.
 */
import { FileProgressChannel, type ProgressChannel } from '../progress/index.js';
import type { AgentRow } from '../coordination/index.js';
import type { Definition } from '../definition/index.js';
import { markUndriven, needsDriver, undrivenText, type RunView } from '../runtime/index.js';
import type { Acting, StartingRuns } from '../runs/index.js';
import type { EventStore } from '../store/index.js';
import type { GateLog, GateStore, ScheduleCursorEntry } from '../triggers/index.js';
import { readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors/index.js';
import {
  definitionFilesIn,
  loadDefinitionFile,
  mayDeclare,
  packageRoot,
  type LoadedDefinition,
} from '../files/index.js';
import { actingUser } from './flags/acting.js';
import { defaultActor } from './flags/input-flags.js';
import { localDir, type GlobalOpts } from './flags/store.js';
import { storeFor } from './open-store.js';
import { ringOf, sealedProgress } from '../encryption/index.js';

export interface StoreSide {
  runs(): Promise<StartingRuns>;
  /**
   * Who acts: on the embedded store the user a users file proves here (the password asked once), judged by the run API
   * and the commands; over NATS the connection's user, which `--as` names only (the server proves it).
   */
  acting(as: string | undefined): Promise<Acting>;
  /** NATS: the cluster's streams made, so people can approve before any engine has run. */
  ready(): Promise<void>;
  /** Whether this user writes the store itself: over NATS a person's user may not (the engines do it for them). */
  mayWrite(): Promise<boolean>;
  /** The workflows: the definitions folder's (--definitions; each file skipped told to `skipped`), or the deployed ones. */
  definitions(dir: string | undefined, skipped: (line: string) => void): Promise<readonly Definition[]>;
  /** The workflow `ref` (`<id>@<version>`): the newest in ./definitions, else a bundled one (findDefinition); or deployed. */
  version(ref: string): Promise<Definition>;
  /** The settings an engine gives the buckets it makes (NATS; the file store has none, nor reads LEDGERFLOW_NATS_*). */
  buckets(): { replicas?: number; storage?: 'file' | 'memory' };
  /**
   * The schedule triggers: the workflows they are of, with the cursors of their slots, the store their runs are in and
   * where the workflows are; null where nothing is scheduled (the embedded store without a definitions folder).
   */
  schedules(
    dir: string | undefined,
    skipped: (line: string) => void,
  ): Promise<{
    definitions: readonly Definition[];
    cursors: Map<string, ScheduleCursorEntry>;
    store: EventStore;
    where: string;
  } | null>;
  /** The trigger gates' state and their decision log. */
  gates(): Promise<{ store: GateStore; log: GateLog }>;
  /**
   * The view marked with what the run waits for that nothing provides, said in `status`: on the embedded store a run no
   * process drives (left by `start --detach`, a schedule's trigger, a killed process), as its lease and serve.lock say
   * (service/driven.ts); over NATS a task whose handler no worker announces, as the engines hear workers' presence
   * (cluster/transport/presence.ts; nobody answering, no engine runs, says nothing).
   */
  unserved(definition: Definition, view: RunView): Promise<RunView>;
  /** The store's live progress of attempts (docs/handlers.md#progress): files under the store, or KV LF_PROGRESS. */
  progress(): ProgressChannel;
  /** What `watch` says of a run that needs a driver and has none (the embedded store's service/driven.ts). */
  undriven?: (runId: string, view: RunView) => Promise<string | null>;
  /** Who works on the store (file agents, or the workers and agents the engines hear), and the store to judge them by. */
  agents(): Promise<{ rows: AgentRow[]; store: EventStore }>;
  /** Whether this process keeps a state file: it sees the embedded store's commits (open-store.ts); over NATS none. */
  readonly keepsStateFile: boolean;
  /** What the commands say of the store (output text that differs per store). */
  readonly says: { log: string; movesOn: string; noAgents: string };
}

export function embeddedSide(g: GlobalOpts): StoreSide {
  // A run that needs a driver and that no process drives: its lease and the store's serve.lock say so (service/driven.ts).
  const driverless = async (view: RunView) =>
    needsDriver(view) && (await (await import('../service/index.js')).runDriver(localDir(g), view.runId)) === null;
  return {
    async runs() {
      const [{ embeddedRuns }, { engineFor }] = await Promise.all([
        import('../runs/embedded.js'),
        import('./drive.js'),
      ]);
      const engine = engineFor(g);
      return embeddedRuns({ engine, store: engine.store, fallback: defaultActor() });
    },
    acting: actingUser,
    ready: async () => undefined,
    mayWrite: async () => true,
    async definitions(dir, skipped) {
      const { loadTriggerCatalog } = await import('../triggers/index.js');
      const catalog = loadTriggerCatalog({ ...(dir ? { definitionsDir: dir } : {}) });
      for (const s of catalog.skipped) skipped(`skipped ${s.reason}`);
      return catalog.definitions;
    },
    version: async (ref) => findDefinition(ref).definition,
    buckets: () => ({}),
    async schedules(dir, skipped) {
      const t = await import('../triggers/index.js');
      // What `serve` fires: the same folder (--definitions, else ./definitions), never the bundled ones.
      const folder = t.scheduledDir(dir);
      if (folder === null) return null;
      const catalog = t.loadTriggerCatalog({ definitionsDir: folder });
      for (const s of catalog.skipped) skipped(`skipped ${s.reason}`);
      const cursors = await new t.FileScheduleCursor(t.scheduleCursorFile(localDir(g))).all();
      return { definitions: catalog.definitions, cursors, store: storeFor(g), where: catalog.definitionsDir };
    },
    gates: async () => (await import('../triggers/index.js')).fileGates(localDir(g)),
    unserved: async (_definition, view) => ((await driverless(view)) ? markUndriven(view) : view),
    undriven: async (runId, view) => ((await driverless(view)) ? undrivenText(runId) : null),
    progress: () => sealedProgress(FileProgressChannel.under(localDir(g)), ringOf(storeFor(g))),
    async agents() {
      const [{ agentsSeen }, { fileAgentRows }] = await Promise.all([
        import('../agent/index.js'),
        import('../coordination/index.js'),
      ]);
      return { rows: fileAgentRows(await agentsSeen(storeFor(g))), store: storeFor(g) };
    },
    keepsStateFile: true,
    says: {
      log: 'the store',
      movesOn: 'a `ledgerflow serve` (or `ui`) moves them on',
      noAgents: 'no file agent has run on this store (`ledgerflow agent --queue <q>`, docs/agents.md)',
    },
  };
}

/** The `.yaml` definitions of a folder that may define `id` (named so, or whose text may declare it: only those are parsed) and load; a file that does not load is passed over (`validate` says why). */
function candidatesIn(dir: string, id: string): LoadedDefinition[] {
  const out: LoadedDefinition[] = [];
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
 * `inventory-validation` finds `inventory-validation.yaml`, whose id is inventory-validation-v1): the newest version in
 * the first folder that has the workflow. Two files with the same id and version there are an error naming both.
 */
export function findDefinition(ref: string, cwd = process.cwd()): LoadedDefinition {
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
      throw new UsageError(
        `${ref} is defined by ${newest.length} files in ${relative(cwd, dir) || dir}: ${newest.map((f) => relative(cwd, f.file)).join(', ')}; give each its own id or version, or run one file with \`ledgerflow run <file>\``,
        { workflow: ref, files: newest.map((f) => f.file) },
      );
    }
    return newest[0]!;
  }
  throw new UsageError(
    `no definition of ${ref} in ./definitions or among the bundled ones (\`ledgerflow templates\` lists them); run a file with \`ledgerflow run <file>\`, or start a deployed workflow over NATS with --nats`,
    { workflow: ref },
  );
}
