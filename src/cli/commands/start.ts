/**
 * `ledgerflow start <workflow>`. On the embedded store (as 3OX writes it:
 * `workflow start inventory-validation-v1 --target_folder "0UT.3OX"`) the definition is found by its id — the project's
 * `definitions/` first, then the definitions bundled with ledgerflow — and run here as `run` runs a file; `--detach`
 * only records the start (the run API's `start`), prints the run id and leaves the run to `ledgerflow serve`. Over NATS
 * the run API starts a deployed workflow and the engines run it.
 */
import { UsageError } from '../../errors/index.js';
import { bundledDefaults } from '../../files/index.js';
import { checkPriority } from '../../limits/index.js';
import { EXIT } from '../render/exit.js';
import { gatherInputs } from '../flags/inputs.js';
import { waitFlag } from '../flags/input-flags.js';
import { json, type Io } from '../render/io.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { splitTail, type OptionSpec } from '../flags/tail.js';
import { callerIdFlags } from '../flags/run-id.js';
import { actingFor, runsFor } from '../runs.js';
import { findDefinition } from '../store-side.js';

type StartOpts = {
  inputFile?: string;
  input?: string;
  json?: boolean;
  detach?: boolean;
  notifications?: string;
  id?: string;
  idReuse?: string;
  priority?: string;
  wait?: string;
};

/** Its caller-chosen id and priority, checked (exit 2, nothing written). */
const checked = (o: StartOpts) => ({ ...callerIdFlags(o), priority: checkPriority(o.priority, '--priority') });

export async function startCmd(
  io: Io,
  global: GlobalOpts,
  ref: string,
  tail: string[],
  given: StartOpts,
  specs: OptionSpec[],
  help: () => number,
): Promise<number> {
  // Where to connect, read before the definition is known (partially: tail.ts); the inputs once it is.
  const first = splitTail(tail, specs, null, true);
  if (first.help) return help();
  const nats = usesNats({ ...global, ...first.globals });
  const found = nats ? null : findDefinition(ref);
  const local = found ? splitTail(tail, specs, found.definition) : first;
  if (local.help) return help();
  const opts: StartOpts = { ...given, ...local.options };
  if (found && !opts.detach) return (await import('./run.js')).runCmd(io, global, found.file, tail, given, specs, help);
  // Notifications are sent by the process that drives the run: with --detach that is `serve`, over NATS the engines.
  if (opts.notifications !== undefined) {
    throw new UsageError(
      nats
        ? 'start over NATS: --notifications goes to the engines that drive the run (`ledgerflow engine --notifications <file>`)'
        : 'start --detach: --notifications goes to the process that drives the run; give it to `ledgerflow serve --notifications <file>` (or start without --detach)',
      { option: '--notifications' },
    );
  }
  if (nats && opts.detach)
    throw new UsageError(
      '--detach is for the embedded store (start records the run and `serve` runs it); over NATS start always returns at once and the engines run it',
      { option: '--detach' },
    );
  checked(opts); // before connecting
  const waitMs = nats ? waitFlag(opts.wait) : 0;
  const g: GlobalOpts = { ...global, ...local.globals };
  const runs = await runsFor(g);
  // Over NATS a person's user may not read the registry: its inputs go as given, converted by the engine (a boolean input's flag then takes a value).
  const definition = found?.definition ?? (await runs.resolve!(ref));
  const split = found ? local : splitTail(tail, specs, definition);
  const o: StartOpts = { ...given, ...split.options };
  const { runId, idReuse, priority } = checked(o);
  const started = await runs.start(
    {
      definition: definition ?? ref,
      input: { ...(found ? bundledDefaults(found.definition, found.file) : {}), ...gatherInputs(o, split.inputs) },
      inputFromStrings: true,
      ...(found
        ? { source: { file: found.file, ...(found.handlersPath ? { handlers: found.handlersPath } : {}) } }
        : {}),
      ...(runId !== undefined ? { runId, ...(idReuse ? { idReuse } : {}) } : {}),
      ...(priority !== undefined ? { priority } : {}),
    },
    await actingFor(g, undefined),
    { waitMs },
  );
  if (started.queued) {
    io.out(
      o.json
        ? json({ queued: true, request: started.request, runId: started.runId })
        : (await import('./person-requests.js')).queuedLine(`start ${ref}`, waitMs, started.runId),
    );
    return waitMs === 0 ? EXIT.ok : EXIT.waiting;
  }
  if (started.existing && !o.json) io.err(`run ${started.runId} exists already (${started.status}): not started again`);
  // Over NATS a fresh start of a workflow without concurrency says no status, as the dashboard's.
  const status = nats && definition && runId === undefined && !definition.concurrency ? {} : { status: started.status };
  io.out(
    o.json
      ? json({
          runId: started.runId,
          workflowId: started.workflowId,
          version: started.version,
          ...status,
          ...(started.existing ? { existing: true } : {}),
        })
      : started.existing || nats
        ? started.runId
        : `${started.runId}\n  recorded, not driven here: \`ledgerflow serve\` runs it (or \`ledgerflow resume ${started.runId}\`)`,
  );
  return EXIT.ok;
}
