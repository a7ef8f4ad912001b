/**
 * status, list, stats, reindex, history, replay, migrate and check: the commands that read a run's log (and the index rebuilt
 * from it), move unsettled runs to another version, and check a new version before it ships.
 */
import { Option } from 'commander';
import { type TableCommand, asOption } from '../flags/options.js';
import type { CommandTable } from './act.js';

export function readingCommands(p: TableCommand, { act }: CommandTable): void {
  p.command('status')
    .argument('<runId>', 'run id')
    .description(
      "where a run stands: its status, each task's state, who or what it waits for, and the command that moves it on",
    )
    .option('--json')
    .option('--yaml')
    .action(act(() => import('../commands/read.js'), 'statusCmd'));
  p.command('list')
    .description(
      'runs, newest first, from the run index (rebuilt from the log when missing or behind): the newest 50 that match, and on stderr how many more',
    )
    .option('--workflow <id>')
    .option('--status <status>')
    .option(
      '--trigger <kind[:id]>',
      'how runs started: event, schedule, parent, retry, manual; with :id an event type or event id, schedule slot or run id',
    )
    .option(
      '--agent <name>',
      "runs with a task assigned to this agent, an approval decided by them, or an attempt's outcome they reported (a worker's NATS user, a file agent)",
    )
    .option('--since <time>', 'started at or after: an ISO time, or how long ago (90m, 24h, 7d)')
    .option('--until <time>', 'started at or before (as --since)')
    .option('--output-contains <text>', "runs whose output's JSON contains this text (any case)")
    .option('--run-id <prefix>', 'run ids starting with this')
    .option(
      '--where <cond>',
      'runs whose search attribute meets this: name=value, name!=value, or <, <=, >, >= for numbers and times (repeat: all must hold)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--limit <n>', 'the newest n matching runs (default 50, at most 500)')
    .option('--all', 'every matching run (not only the newest 50)')
    .option('--json')
    .action(act(() => import('../commands/read.js'), 'listCmd'));
  p.command('stats')
    .argument('<workflow>', 'the workflow id')
    .description(
      "a workflow's figures from the run index: runs, execution_time (p50, p95, mean, max), task_success_rate and retry_count (per task too), failure_rate; the table shows those its definition's monitoring.metrics lists, --json all",
    )
    .option('--since <time>', 'runs started at or after: an ISO time, or how long ago (90m, 24h, 7d)')
    .option('--version <n>', 'only the runs of this version of the workflow')
    .addOption(new Option('--workflow-version <n>').hideHelp())
    .option('--json', 'print every figure as JSON (the same as GET /api/definitions/<workflow>/stats)')
    .action(act(() => import('../commands/stats.js'), 'statsCmd'));
  p.command('reindex')
    .description(
      'rebuild the run index from the log (NATS: KV LF_RUNS_INDEX; file store: <store>/index/runs.jsonl); progress on stderr',
    )
    .option('--json', 'print { index, runs, corrupt, ms } as JSON')
    .action(act(() => import('../commands/reindex.js'), 'reindexCmd'));
  p.command('history')
    .argument('<runId>', 'run id')
    .description('the audit trail: every event of the run')
    .option('--json')
    .option(
      '--format <format>',
      "events (the default) or log: the execution log's lines (monitoring.log_to), rebuilt from the run's log",
    )
    .action(act(() => import('../commands/read.js'), 'historyCmd'));
  p.command('replay')
    .argument('[runId]', 'run id')
    .description('rebuild the state from the log and check it (one run, or --all)')
    .option('--to <seq>', 'stop at this event')
    .option(
      '--definition <file>',
      'check whether this definition could take over the run (with --all: every run of its workflow)',
    )
    .option('--all', 'replay every recorded run')
    .option('--workflow <id>', 'with --all: only the runs of this workflow')
    .option('--json')
    .action(act(() => import('../commands/replay.js'), 'replayCmd'));
  const blob = p
    .command('blob')
    .description('the bodies of large payloads kept apart from the events (docs/language.md#large-payloads): get, gc');
  blob
    .command('get')
    .argument('<digest>', "the reference's digest, sha256:<64 hex> (history --json shows it)")
    .description('print the body of a large payload (its JSON), or write it to a file')
    .option('--output <file>', 'write the body to this file (streamed) instead of printing it')
    .action(act(() => import('../commands/blob.js'), 'blobGetCmd'));
  blob
    .command('gc')
    .description(
      'delete the bodies no run in the live log refers to (those stored within the grace period are kept: a run may be about to refer to them)',
    )
    .option('--grace <duration>', 'keep unreferenced bodies younger than this (default 1h)')
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .option(
      '--json',
      'print { kept, collected, collectedCount, bytes, young, corrupt, corruptCount, truncated, deleted }',
    )
    .option('--as <name>', 'who collects, with a users file (L1, docs/users.md); over NATS the user connected as')
    .action(act(() => import('../commands/blob.js'), 'blobGcCmd'));
  p.command('migrate')
    .argument('<workflow>', 'workflow id')
    .description(
      "move the unsettled runs of a workflow to another version: each run's history is replayed under it and sorted into takes over as is / with the task map / cannot (first divergence); without --dry-run each run that can take over gets run.migrated and goes on under the new version (docs/runs.md#migrating-in-flight-runs)",
    )
    .requiredOption(
      '--to <version>',
      'the version to move to: its number (embedded: in ./definitions or the bundled ones; NATS: deployed) or a definition file',
    )
    .option(
      '--map <old=new>',
      'a task renamed in the new version (repeatable): its state carries over under the new id',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--query <filter>',
      "only the runs of the workflow this filter matches: list's filters as key=value (status=WAITING since=1h where=customer=42)",
    )
    .option('--dry-run', 'print the verdict of every run, change nothing')
    .with(asOption)
    .option(
      '--json',
      'print { workflowId, to, map, dryRun, judged, as_is, with_map, cannot, already, migrated, refused, runs: [...] }',
    )
    .action(act(() => import('../commands/migrate.js'), 'migrateCmd'));
  p.command('check')
    .argument('<file>', 'the new version of a workflow (a definition file)')
    .description(
      'the deploy gate: a new version judged before it ships — what changed, what it does to the unsettled runs (as migrate --dry-run judges them), which of its paths no expectation tests, the properties; exit 0 safe, 1 unsafe, 2 usage (docs/check.md)',
    )
    .option(
      '--against <file>',
      'the version it replaces, a definition file (default: the deployed version over NATS; embedded, the newest other version in ./definitions or the bundled ones)',
    )
    .addOption(
      new Option('--format <format>', 'the report: text (default), json, sarif (SARIF 2.1.0) or junit (JUnit XML)'),
    )
    .option('--output <file>', 'write the report (in --format) to this file, and print the text summary')
    .option('--history <n>', 'replay the newest n settled runs under the new version too (default 0)')
    .option(
      '--map <old=new>',
      'a task renamed in the new version (repeatable), as migrate --map: runs take over with it',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--strict', 'warnings fail the gate too (exit 1)')
    .option('--json', 'the same as --format json')
    .action(act(() => import('../commands/check.js'), 'checkCmd'));
}
