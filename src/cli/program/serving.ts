/**
 * serve, ui, dev, emit and schedules (with its pause, resume, trigger and backfill): the long-running processes of the
 * embedded store and the dashboard, the dev nats-server, events and schedule triggers.
 */
import {
  type TableCommand,
  commandOutputLimitOption,
  metricsOptions,
  notificationsOption,
  outputRootOption,
  stateFileOptions,
  httpAllowOption,
  skillsOption,
} from '../flags/options.js';
import type { CommandTable } from './act.js';
import { retentionOptions } from '../flags/retention-flags.js';

export function servingCommands(p: TableCommand, { io, g, act, actLocal, actStore }: CommandTable): void {
  p.command('serve')
    .description(
      "the embedded store's engine, until SIGTERM/SIGINT: drives every unsettled run nobody else drives (timers on time, approvals and signals as they land, runs whose process died), one per store (a second stands by)",
    )
    .option('--handlers <module>', "handler module for every run (default: each run's recorded `handlers:` module)")
    .with(skillsOption)
    .option('--grace <duration>', 'on SIGTERM/SIGINT, how long attempts in flight get to finish (default 10s)')
    .with(outputRootOption)
    .option(
      '--json',
      'print each notice (run picked up, taken over, settled; standby, stopping) as a JSON line on stdout',
    )
    .option(
      '--definitions <dir>',
      'the definitions whose schedule triggers fire (default: ./definitions; without one no schedule fires, the bundled ones being for the tour); re-read when a file changes',
    )
    .option('--no-schedules', 'fire no schedules (only drive runs)')
    .with(...retentionOptions)
    .with(commandOutputLimitOption, httpAllowOption, notificationsOption, ...metricsOptions, ...stateFileOptions)
    .action(act(() => import('../commands/serve.js'), 'serveCmd'));
  p.command('ui')
    .description(
      'the web dashboard: runs, definitions, schedules, metrics; approve, signal, cancel, pause, resume, retry, start and emit from a browser. Embedded store: also drives the runs (as serve), binds 127.0.0.1 and prints the URL with its access token; NATS: people sign in with their NATS user',
    )
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--handlers <module>',
      "embedded store: handler module for every run driven here (default: each run's recorded module)",
    )
    .option(
      '--definitions <dir>',
      'workflows to show and start (default: ./definitions, else the bundled ones) and fire schedules of (only a folder of yours: --definitions or ./definitions)',
    )
    .with(outputRootOption, commandOutputLimitOption, notificationsOption)
    .option(
      '--users <file>',
      'embedded store: the users file (docs/users.md; default $LEDGERFLOW_USERS, else users.yaml here when there is one): people sign in with their name and password or their own token, act as themselves and are judged by their level; the shared token and the free `as` name are gone',
    )
    .option(
      '--allowed-host <name>',
      "a Host / Origin name to answer besides the listening address (a proxy's: name or name:port); repeatable",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--max-input <bytes>',
      "the largest body of a start or an event over HTTP (POST /api/workflows/:id/start, /api/events/:type): a run's input, its large fields kept apart as any start's (e.g. 16MiB, 1GiB; default 64MiB); every other request body is at most 64KiB",
    )
    .with(...stateFileOptions)
    .option('--json', 'print { url, token, port, mode, identity } as one JSON line on stdout once listening')
    .action(act(() => import('../commands/ui.js'), 'uiCmd'));
  p.command('dev')
    .description(
      'start a local nats-server from nats-dev.conf (DEVELOPMENT ONLY: no credentials = the engine user), store under .ledgerflow/nats/ (or a cluster: --cluster 3); prints the URL to use',
    )
    .option(
      '--port <port>',
      'client port (of the first node with --cluster; the others take the next ones): default 4222, 4223 with --leaf',
    )
    .option(
      '--store-dir <dir>',
      "JetStream store directory (default .ledgerflow/nats, or .ledgerflow/cluster with --cluster; with --leaf, its config's folder, default .ledgerflow/leaf-<name>)",
    )
    .option(
      '--config <file>',
      'nats-server config (default nats-dev.conf, or nats-cluster-dev.conf with --cluster; nats.conf / nats-cluster.conf refuse connections without credentials)',
    )
    .option('--cluster <nodes>', 'start a cluster of this many nodes (3 to 9) from nats-cluster-dev.conf')
    .option(
      '--leaf-port <port>',
      'the hub of stations: also listen for their leaf nodes on this port (7422 by convention), each station as its user leaf-<name> with the password kept in <store>/leaf-password (or LF_LEAF_PASSWORD) (docs/nats.md#stations)',
    )
    .option(
      '--stations <list>',
      "with --leaf-port: the stations whose leaf nodes the hub takes, comma-separated; each link carries only its station's people and workers",
    )
    .option(
      '--leaf <station>',
      "start station <station>'s leaf node instead (no JetStream: its clients use the hub's, --nats 'nats://…?domain=hub'), linked to --hub",
    )
    .option(
      '--hub <url>',
      "with --leaf: the hub's leaf node port (default nats://127.0.0.1:7422; its password from LF_LEAF_PASSWORD or .ledgerflow/nats/leaf-password, unless the URL gives one)",
    )
    .option('--json', 'once ready, print the servers and the --nats value as JSON')
    .action(actLocal(() => import('../commands/dev.js'), 'devCmd'));
  p.command('emit')
    .argument('<eventType>')
    .description('send an event: start each workflow whose trigger matches it, once per event id')
    .option('--data <json>', 'the payload, a JSON object')
    .option('--sample', "the payload is the sample: of the event type's file (events/<type>.yaml)")
    .option('--id <eventId>', 'unique event id (default: a new uuid)')
    .option('--time <iso>', 'when it happened (default: now)')
    .option('--source <name>', 'who sent it')
    .option('--definitions <dir>', 'workflows (default: definitions/ here, else the bundled ones)')
    .option('--events <dir>', 'event type schemas (default: events/ here, else the bundled ones)')
    .option('--max-wait <duration>', 'wait in-process for timers due within this long (default 5m)')
    .with(outputRootOption, commandOutputLimitOption, notificationsOption)
    .option('--wait <duration>', "over NATS: how long to wait for the engines' verdict (default 10s; 0: don't wait)")
    .option('--json', 'print { event, runs } as JSON')
    .action(act(() => import('../commands/emit.js'), 'emitCmd'));
  p.command('schedules')
    .description(
      'every schedule trigger: its next fire times (UTC and its zone) and the last slot fired with its run (embedded: definitions/ and <store>/schedules.json; NATS: the deployed ones)',
    )
    .option('--count <n>', 'next fire times to show per schedule (default 3)')
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json')
    .action(act(() => import('../commands/schedules.js'), 'schedulesCmd'));
  {
    const schedules = p.commands.find((c) => c.name() === 'schedules')!;
    const about = {
      pause:
        "pause the workflow's schedules: no slot fires until a resume, across restarts and engine failovers (L1 with a users file)",
      resume: 'resume them: the next slot fires; the slots of the pause are missed slots that catch_up decides (L1)',
      trigger: 'one run now, recorded as a manual slot of the schedule (it runs even while paused; L1)',
      backfill:
        'start a run for every slot in [--from, --to) that has none yet, once: a second backfill starts nothing (L1)',
    } as const;
    for (const action of ['pause', 'resume', 'trigger', 'backfill'] as const) {
      const c = schedules
        .command(action)
        .argument('<workflow>', 'the workflow whose schedules these are')
        .description(about[action])
        .option('--trigger <n>', 'only triggers[n] (default: every schedule of the workflow; trigger: the first)');
      if (action === 'pause') c.option('--reason <text>', 'why, shown by `schedules` and the dashboard');
      if (action === 'backfill')
        c.requiredOption(
          '--from <time>',
          'the first instant, ISO (2026-11-20T00:00:00Z): slots at or after it',
        ).requiredOption('--to <time>', 'the end, ISO: slots before it');
      if (action === 'trigger' || action === 'backfill')
        c.option(
          '--wait <duration>',
          'NATS: how long to wait for the engines to start the runs (default 10s; 0: not at all)',
        );
      c.option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
        .option(
          '--json',
          'print { action, workflowId, schedules?, queued?: [{ workflowId, trigger, slot, runId, manual? }], existing?, ahead?, started? }',
        )
        .action(
          actStore(
            () => import('../commands/schedules.js'),
            (m, workflow: string, o) => m.scheduleActionCmd(io, g(), action, workflow, { ...schedules.opts(), ...o }),
          ),
        );
    }
  }
}
