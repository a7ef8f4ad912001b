/** approve, reject, signal, pause and cancel: the commands that send a run a decision, a signal or a control. */
import {
  type TableCommand,
  asOption,
  commandOutputLimitOption,
  outputRootOption,
  bulkOptions,
  waitOption,
} from '../flags/options.js';
import type { CommandTable } from './act.js';

export function runInputCommands(p: TableCommand, { io, g, actStore }: CommandTable): void {
  // approve, reject and signal move the run on here (embedded store) or wait for an engine's verdict (NATS).
  const movesRunOn = [
    [
      '--handlers <module>',
      'embedded store: handler module to move the run on with (default: the one the run recorded)',
    ],
    outputRootOption,
    commandOutputLimitOption,
    waitOption,
  ] as const;
  for (const name of ['approve', 'reject'] as const) {
    p.command(name)
      .argument('[runId]', 'run id (or --query)')
      .argument('[taskId]', 'a HUMAN task of the run')
      .description(
        `${name} a HUMAN task of the run. Embedded store: recorded, and the run moved on here unless a serve, ui or run process drives it. Over NATS: recorded at once when no engine runs and the name is not proven (a server without users, no credentials), else published for the engines (queued until one, or \`resume\`, takes it)`,
      )
      .with(asOption)
      .option('--comment <text>')
      .with(...movesRunOn)
      .option('--json', 'print { runId, task, decision, by, unauthenticated, recorded, queued, changed, seq, status }')
      .with(...bulkOptions)
      .option(
        '--task <taskId>',
        'with --query: only this waiting HUMAN task of each run (default: every HUMAN task each run waits on)',
      )
      .option(
        '--decision <decision>',
        `with --query: approved or rejected (default ${name === 'approve' ? 'approved' : 'rejected'})`,
      )
      .action(
        actStore(
          () => import('../commands/run-inputs.js'),
          (m, runId: string | undefined, taskId: string | undefined, o) =>
            m.approveCmd(io, g(), name, runId, taskId, o),
        ),
      );
  }
  p.command('signal')
    .argument('<runId>', 'run id')
    .argument('<name>', "the signal's name: what a WAIT's event: waits for")
    .description(
      'send a signal to a run: its WAITs on that name complete with the data as output (one not reached yet keeps it). Refused, recording nothing, when no WAIT would take it. Taken as approve is (embedded: the run moved on here; NATS: recorded at once or published)',
    )
    .option('--data <json>', "the signal's data (JSON, at most 64 KB): the WAIT's output")
    .with(asOption)
    .with(...movesRunOn)
    .option('--json', 'print { runId, name, by, unauthenticated, recorded, queued, changed, seq, status }')
    .action(
      actStore(
        () => import('../commands/run-inputs.js'),
        (m, runId: string, name: string, o) => m.inputCmd(io, g(), runId, m.signalInput(name, o.data), o),
      ),
    );
  for (const [action, about] of [
    [
      'pause',
      'pause a run: running attempts finish and are recorded, no new one starts until `resume`. Refused (exit 2, nothing recorded) when settled or already paused. Over NATS, taken as approve is (published on lf.control.<user>.<runId>)',
    ],
    [
      'cancel',
      'cancel a run: its attempts are aborted, the child runs of its sub-workflows cancelled. Over NATS, taken as approve is (published on lf.control.<user>.<runId> when an engine runs, which records it and acts on it)',
    ],
  ] as const) {
    p.command(action)
      .argument('[runId]', 'run id (or --query)')
      .description(about)
      .option('--reason <text>')
      .with(asOption, waitOption)
      .option('--json', 'print { runId, action, by, unauthenticated, recorded, queued, changed, seq, status }')
      .with(...bulkOptions)
      .action(
        actStore(
          () => import('../commands/run-inputs.js'),
          (m, runId: string | undefined, o) =>
            m.controlCmd(
              io,
              g(),
              runId,
              { kind: 'control', action, ...(o.reason !== undefined ? { reason: o.reason } : {}) },
              o,
            ),
        ),
      );
  }
}
