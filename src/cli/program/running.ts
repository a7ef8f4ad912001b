/**
 * validate, compile, schema, run, resume, state-file and retry: the commands that check definitions and start, continue
 * or retry a run.
 */
import {
  type TableCommand,
  commandOutputLimitOption,
  notificationsOption,
  inputOptions,
  outputRootOption,
  stateFileOptions,
  secretsOption,
  httpAllowOption,
  bulkOptions,
  skillsOption,
} from '../flags/options.js';
import type { CommandTable } from './act.js';

export function runningCommands(p: TableCommand, { act, actLocal, actInputs }: CommandTable): void {
  p.command('validate')
    .argument('<file...>')
    .description('check definitions; every problem as file:line:col')
    .option('--strict', 'treat warnings as errors')
    .option('--json', 'machine-readable result')
    .action(actLocal(() => import('../commands/validate.js'), 'validateCmd'));
  p.command('compile')
    .argument('<file...>')
    .description('write machines/<workflow-id>.json (XState config)')
    .option('--out <dir>', 'output directory', 'machines')
    .option('--check', 'fail if a machine file is stale; write nothing')
    .option('--json')
    .action(actLocal(() => import('../commands/validate.js'), 'compileCmd'));
  p.command('schema')
    .description('print the JSON Schema of the definition language')
    .action(actLocal(() => import('../commands/validate.js'), 'schemaCmd'));
  p.command('run')
    .argument('<file>')
    .argument('[inputs...]', 'workflow inputs as --<name> <value>')
    .description('start a run and execute it until it completes, fails or waits')
    .with(...inputOptions)
    .option('--handlers <module>', 'handler module (.ts, .js, .mjs)')
    .with(skillsOption)
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)')
    .option(
      '--commit-window <duration>',
      'gather steps of in-process handlers into one commit for up to this long (default 0: each step durable before it acts)',
    )
    .with(outputRootOption, commandOutputLimitOption, httpAllowOption, notificationsOption, secretsOption)
    .option(
      '--id <id>',
      "the run's id, chosen by you (1-100 of A-Z a-z 0-9 _ -): a second run with the same id returns that run (--json: existing: true) instead of starting another",
    )
    .option(
      '--id-reuse <policy>',
      "when an id whose run settled may start a new run: reject_duplicate (never: the default), allow_after_failure (once it FAILED or was CANCELLED), allow (once it settled); overrides the workflow's id_reuse:",
    )
    .option(
      '--priority <n>',
      "the run's priority when its work waits (a concurrency slot, a task limit; on NATS a worker): 0..99, higher first; overrides the workflow's priority: (default 50)",
    )
    .with(...stateFileOptions)
    .option('--json', 'print the final state as JSON')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(actInputs(() => import('../commands/run.js'), 'runCmd'));
  p.command('resume')
    .argument('[runId]', 'run id (or --query)')
    .description(
      'continue an interrupted, waiting or paused run (a paused one is un-paused first: run.resumed). With --query: un-pause every paused run the filter matches (recorded, not driven here: a serve, ui or the engines move them on)',
    )
    .option(
      '--as <name>',
      'who resumes a paused run (default $USER. Over NATS with a user in the URL, that user (--as must match it); without one, a name recorded as unauthenticated)',
    )
    .option(
      '--wait <duration>',
      "over NATS, for a paused run: how long to wait for an engine's verdict when one is running (default 10s; 0: don't wait)",
    )
    .option('--handlers <module>')
    .with(skillsOption)
    .option('--max-wait <duration>')
    .option('--commit-window <duration>')
    .with(outputRootOption, commandOutputLimitOption, httpAllowOption, notificationsOption, secretsOption)
    .with(...stateFileOptions)
    .option('--json')
    .with(...bulkOptions)
    .action(act(() => import('../commands/run.js'), 'resumeCmd'));
  p.command('state-file')
    .argument('[path]', 'the file --rebuild writes (default .3ox/workflow.state.yaml)')
    .description(
      'the state file (.3ox/workflow.state.yaml) as the run log has it: printed, or with --rebuild written over the file',
    )
    .option('--rebuild', 'write it (and the worksets beside it) over the file instead of printing it')
    .option('--keep <n>', 'settled runs kept, the newest (default 50)')
    .option(
      '--follow',
      'keep the file (and the worksets) up to date from the log until Ctrl-C: on NATS from the stream, on any machine',
    )
    .action(act(() => import('../commands/state-file.js'), 'stateFileCmd'));
  p.command('retry')
    .argument('[runId]', 'the FAILED or CANCELLED run to retry (or --query)')
    .description(
      'retry a FAILED or CANCELLED run from where it failed: a new run of its recorded definition and input that reuses the outputs of the tasks that completed and runs the rest (refused, exit 2, for any other run). Embedded: drives the new run here, as resume does; over NATS: the engines drive it and its id is printed',
    )
    .option('--handlers <module>', 'handler module (default: the one the failed run recorded)')
    .with(skillsOption)
    .option('--max-wait <duration>')
    .option('--commit-window <duration>')
    .with(outputRootOption, commandOutputLimitOption, secretsOption)
    .option(
      '--wait <duration>',
      'over NATS: wait this long for the new run to settle or wait for a person, and print its state (exit codes as run)',
    )
    .option('--json')
    .with(...bulkOptions)
    .action(act(() => import('../commands/retry.js'), 'retryCmd'));
  p.command('fork')
    .argument('<runId>', 'the run to fork (any status; it is left untouched unless --reset)')
    .argument('[inputs...]', "inputs changed, as --<name> <value> (the others are the original run's)")
    .description(
      "start a new run whose history is the original's up to --at, with the inputs changed as given: the tasks that completed before that point are reused (not run again), the rest runs. Embedded: drives the new run here as retry does (--detach: recorded, left to `serve`); over NATS: the engines drive it",
    )
    .option(
      '--at <point>',
      'a task id (it and what follows run again) or an event sequence number of the original (after it)',
    )
    .option(
      '--definition <file>',
      'go on under this definition (embedded: a YAML file; over NATS: a deployed <workflowId>[@<version>]) instead of the recorded one',
    )
    .option('--reset', 'also cancel the original run once the fork is recorded (L1)')
    .with(...inputOptions)
    .option('--detach', 'embedded: record the fork, print its id and leave it to `ledgerflow serve`')
    .option('--handlers <module>', 'embedded: handler module (default: the one the fork records)')
    .with(skillsOption)
    .option('--max-wait <duration>')
    .option('--commit-window <duration>')
    .with(outputRootOption, commandOutputLimitOption, secretsOption)
    .option('--as <name>', 'who forks (and, with --reset, cancels), with a users file; over NATS the user connected as')
    .option(
      '--wait <duration>',
      "over NATS as a person's user: how long to wait for the engine that judges your level and records the fork (default 10s)",
    )
    .option('--json')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(actInputs(() => import('../commands/fork.js'), 'forkCmd'));
}
