/**
 * archive and restore, doctor, dlq, limits and breaker: runs moved to the archive and back, the operator's commands over the streams, the dead letters, the limits per queue and
 * handler, and the circuit breakers.
 */
import type { Command } from 'commander';
import type { TableCommand } from '../flags/options.js';
import type { CommandTable } from './act.js';

export function operationCommands(p: TableCommand, { io, g, act, actStore }: CommandTable): void {
  const archive = p
    .command('archive')
    .description(
      'move settled runs out of the live log and index into the archive (docs/retention.md); status, history and replay still read them',
    )
    .option('--older-than <duration>', 'runs that settled longer ago than this, with its unit, e.g. 30d or 12h')
    .option('--workflow <id>', "only this workflow's runs")
    .option('--batch <n>', 'runs moved at a time (default 200): appends to the store wait while a batch moves')
    .option(
      '--json',
      'print { archived, runs: [{ runId, workflowId, status, completedAt, period }], left: [{ runId, reason }] } (left: runs due that stayed live)',
    )
    .option('--as <name>', 'who archives, with a users file (L1, docs/users.md); over NATS the user connected as')
    .action(act(() => import('../commands/archive.js'), 'archiveCmd'));
  archive
    .command('list')
    .description('what the archive keeps: one line per period (the month runs settled in), its runs, bytes and file')
    .option('--json', 'print { periods: [{ period, runs, bytes, location }] }')
    .action(
      // `archive` has a --json of its own, which commander gives `archive list --json` to: either one counts.
      actStore(
        () => import('../commands/archive.js'),
        (m, o: { json?: boolean }, c: Command) =>
          m.archiveListCmd(io, g(), { json: o.json === true || c.parent?.opts<{ json?: boolean }>().json === true }),
      ),
    );
  p.command('restore')
    .argument('<runId>', 'an archived run')
    .description('bring an archived run back into the live log and index')
    .option('--json', 'print { restored: { runId, workflowId, status, completedAt, period } }')
    .option('--as <name>', 'who restores, with a users file (L1, docs/users.md); over NATS the user connected as')
    .action(act(() => import('../commands/archive.js'), 'restoreCmd'));
  p.command('doctor')
    .description(
      'every stream and KV bucket ledgerflow keeps on NATS: replicas, leader, health; warns where they differ from LEDGERFLOW_NATS_REPLICAS',
    )
    .option(
      '--routes <list>',
      'cluster route addresses (host:port,…) to check: each must refuse a server without the route password',
    )
    .option('--json', 'print { server, expectedReplicas, streams, missing, routes, warnings, notes }')
    .action(act(() => import('../commands/cluster.js'), 'doctorCmd'));
  const dlq = p
    .command('dlq')
    .description(
      'what engines and workers gave up on (streams LF_DLQ and LF_DLQ_WORKERS, over NATS): list, show, replay, purge',
    );
  dlq
    .command('list')
    .description(
      'every dead letter (engines first, then workers), oldest first: id, kind, when, whether replayable, size, where it came from, reason',
    )
    .option(
      '--kind <kind>',
      'only this kind: inputs, timers, approvals, triggers, tasks, signals, control, notifications',
    )
    .option('--json', 'print the entries as JSON')
    .action(act(() => import('../commands/dlq.js'), 'dlqListCmd'));
  dlq
    .command('show')
    .argument('<id>', "the dead letter's id (from dlq list: 12 for an engine's, w12 for a worker's)")
    .description('one dead letter in full: reason, reference to the message, kept body or excerpt')
    .option('--json')
    .action(act(() => import('../commands/dlq.js'), 'dlqShowCmd'));
  dlq
    .command('replay')
    .argument('[id]', "the dead letter's id (from dlq list)")
    .description(
      'publish the kept body again on its original subject, then delete the dead letter (refused, exit 2, when the body was not kept)',
    )
    .option('--all', 'every replayable dead letter (the others are named and kept; exit 2 if any)')
    .option('--kind <kind>', 'with --all: only this kind')
    .option('--json')
    .action(act(() => import('../commands/dlq.js'), 'dlqReplayCmd'));
  dlq
    .command('purge')
    .description('delete dead letters (all, or of one kind); without --yes nothing is deleted (exit 2, with the count)')
    .option('--kind <kind>')
    .option('--yes', 'really delete')
    .option('--json')
    .action(act(() => import('../commands/dlq.js'), 'dlqPurgeCmd'));
  const limits = p
    .command('limits')
    .description(
      'limits per task queue and per handler name, shared by every workflow (docs/language.md): set them from a file, show them',
    );
  limits
    .command('set')
    .argument(
      '<file>',
      'a limits file: queues: { <queue>: { concurrency: { limit: 5 }, rate_limit: { limit: 100, per: 1s }, breaker: { failures: 5, window: 1m, open_for: 30s } } }, handlers: { <handler>: ... }',
    )
    .description(
      'validate the file and store its limits where every run, resume, serve, ui and engine of the store reads them (an empty file clears them); a bad file: every problem at file:line:col, exit 2, nothing stored',
    )
    .option(
      '--wait <duration>',
      "over NATS as a person's user (not the engine's): how long to wait for the engine that judges your level (L1) and stores them (default 10s; 0: not at all); none in time: queued, exit 3",
    )
    .option('--json', 'print { file, stored, limits | diagnostics }')
    .action(act(() => import('../commands/limits.js'), 'limitsSetCmd'));
  limits
    .command('show')
    .description('the limits stored now, per queue and per handler, and the state of every circuit breaker')
    .option(
      '--json',
      'print { limits: { queues, handlers }, breakers: [{ name, state, failures, openedAt?, until?, by? }] }',
    )
    .action(act(() => import('../commands/limits.js'), 'limitsShowCmd'));
  const breaker = p
    .command('breaker')
    .description('circuit breakers (docs/language.md): open one to hold its attempts, close one to let them go');
  for (const to of ['open', 'close'] as const) {
    breaker
      .command(to)
      .argument(
        '<target>',
        'the breaker, as `limits show` names it: task/<workflow>/<task>, queue/<queue> or handler/<handler>',
      )
      .description(
        to === 'open'
          ? 'open the breaker until an operator closes it: its attempts wait SCHEDULED'
          : 'close the breaker and forget its failures: the attempts it held start',
      )
      .option('--json', 'print { breaker: { name, state, failures, openedAt?, until?, by? } }')
      .action(
        actStore(
          () => import('../commands/breaker.js'),
          (m, target: string, o) => m.breakerCmd(io, g(), to, target, o),
        ),
      );
  }
}
