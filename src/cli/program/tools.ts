/**
 * agents, map, triggers, paths, test, verify, demo, bridge, templates, new and import: the commands that show who works and
 * what starts what, test definitions, and bring workflows in.
 */
import type { TableCommand } from '../flags/options.js';
import type { CommandTable } from './act.js';

export function toolCommands(p: TableCommand, { act, actLocal }: CommandTable): void {
  p.command('agents')
    .description(
      'who works on the store: every file agent that ran on it (embedded; up or gone, its queue, level, skills, attempts in flight) or every worker and agent the engines hear (NATS)',
    )
    .option(
      '--json',
      'print { agents: [{ name, kind, state, queue, level?, skills, handlers?, user?, inFlight?, lastSeen }] }',
    )
    .action(act(() => import('../commands/agents.js'), 'agentsCmd'));
  p.command('map')
    .description(
      'the dependency map of workflows: which starts which, by sub-workflow, MAP, EMIT and the event triggers that hear it, or failure workflow (embedded: definitions/; NATS: the deployed ones)',
    )
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json', 'print { workflows, edges, unheard, dynamic, missing }')
    .action(act(() => import('../commands/map.js'), 'mapCmd'));
  p.command('triggers')
    .description(
      'debounced and throttled event triggers: what waits now (open bursts, queues) and the decision log (started, queued, merged, dropped; embedded: <store>/triggers/; NATS: KV LF_TRIGGER_GATES, stream LF_TRIGGER_LOG)',
    )
    .option('--workflow <id>', "only this workflow's triggers")
    .option('--limit <n>', 'the last n decisions (default 50)')
    .option('--definitions <dir>', 'embedded: workflows (default: definitions/ here, else the bundled ones)')
    .option('--json', 'print { waiting, decisions }')
    .action(act(() => import('../commands/triggers.js'), 'triggersCmd'));
  p.command('paths')
    .argument('<file>')
    .description(
      'the paths through a definition (each decision case, retry, failure, timeout, approval, skip) and the coverage they reach',
    )
    .option('--json', 'print { paths, coverage, uncovered, tasks, excluded }')
    .action(actLocal(() => import('../commands/coverage.js'), 'pathsCmd'));
  p.command('test')
    .argument('<file...>')
    .description(
      'run every path, and the expectations in expectations/<file> beside each definition, against the runtime (scripted handlers, virtual time)',
    )
    .option('--json', 'print the results as JSON')
    .action(actLocal(() => import('../commands/coverage.js'), 'testCmd'));
  p.command('verify')
    .argument('<file...>')
    .description(
      'check properties on every path of a definition (no stuck state, loops that end, tasks that can run, waits that time out, decisions covered, and its properties:), each violation with its shortest counter-example (docs/verify.md)',
    )
    .option('--json', 'print { holds, files: [{ file, workflowId, states, bounded, bound, properties, saved? }] }')
    .option('--save', 'append each counter-example to expectations/<file> beside the definition, for `ledgerflow test`')
    .option('--max-states <n>', 'explore at most n model states (default 20000); reaching it is reported')
    .option('--loop-bound <n>', 'explore loops up to n iterations (default 5)')
    .action(actLocal(() => import('../commands/verify.js'), 'verifyCmd'));
  p.command('demo')
    .description(
      "the tour (npm start): in a fresh embedded store, emit the sample revenue, lead and compliance events, run the batch validation over the sample folders, approve the pending approval as cfo, print each run's trail and output",
    )
    .option(
      '--json',
      'print the summary (runs, statuses, approvals, per-folder results, files, store) as JSON on stdout; progress goes to stderr',
    )
    .action(act(() => import('../commands/demo.js'), 'demoCmd'));
  p.command('bridge')
    .argument('[file]', 'a file of lines (default: standard input)')
    .description(
      'CMD.BRIDGE lines (@workflow <id> name=value …, @status <run>, @approve <run> <task> [comment], @cancel <run>), each answered with one line; on the embedded store',
    )
    .option(
      '--inbox <dir>',
      "watch this folder: each file dropped in it (a link is refused unread) is taken once, answered into done/ or failed/ with a .result file beside it; whoever can drop a file acts as the bridge's user",
    )
    .option(
      '--as <name>',
      "who the bridge acts as (default LEDGERFLOW_USER, else $USER); with a users file, signed in once at its start as any command is (LEDGERFLOW_PASSWORD, or asked at a terminal), and each line judged by that user's level",
    )
    .option(
      '--inbox-level <level>',
      "with --inbox and a users file (then required): the most a dropped file may do; its lines are judged at the lower of this level and the --as user's",
    )
    .option(
      '--detach',
      'record the runs @workflow starts and leave them to `ledgerflow serve` (default: drive them here)',
    )
    .option(
      '--handlers <module>',
      "handler module for the runs started here (default: each definition's handlers: line)",
    )
    .option('--json', 'answer each line as a JSON object')
    .action(act(() => import('../commands/bridge.js'), 'bridgeCmd'));
  p.command('templates')
    .description('the template library: each bundled workflow, what it does and the command that runs it')
    .option(
      '--from <source>',
      'list the templates of a folder, a tarball (.tgz) or an npm package (@acme/ledgerflow-templates) instead',
    )
    .option('--json', 'print the catalogue entries as JSON')
    .action(actLocal(() => import('../commands/templates.js'), 'templatesCmd'));
  p.command('new')
    .argument(
      '<template>',
      'a template id (see `ledgerflow templates`), or <source>/<template>: a folder, a tarball (.tgz) or an npm package of templates (@acme/ledgerflow-templates/onboarding)',
    )
    .description(
      'copy a template (definition, sub-workflows, handlers, samples, events, expectations) into a directory, renamed with --id; refuses (exit 2, nothing written) a file that exists',
    )
    .option('--id <workflowId>', "the copy's workflow id (its files are named after it)")
    .option('--dir <dir>', 'where to copy it (default: the current directory)')
    .option('--json')
    .action(actLocal(() => import('../commands/templates.js'), 'newCmd'));
  p.command('import')
    .description('import workflow definitions written for another engine (conductor)')
    .command('conductor')
    .argument(
      '<source>',
      'a Conductor workflow JSON file (a WorkflowDef, or a list of them) or a folder of .json files',
    )
    .description(
      'Conductor workflows as ledgerflow YAML, each validated; a workflow that cannot be imported is refused naming each task and why (exit 1)',
    )
    .option('--out <dir>', 'write <dir>/<workflow-id>.yaml (default: print the YAML)')
    .option(
      '--as-simple <types>',
      "import these Conductor task types (comma-separated, e.g. LLM_CHAT_COMPLETE,SENDGRID) as SIMPLE tasks: a handler of the task's name does the work",
    )
    .option(
      '--no-integrations',
      "refuse Orkes' integration and AI tasks (LLM_*, GENERATE_*, agents, MCP, SENDGRID, OPS_GENIE, QUERY_PROCESSOR) instead of importing them as SIMPLE tasks whose handler makes the call",
    )
    .option('--json', 'print { imported, refused, notes }')
    .action(actLocal(() => import('../commands/import.js'), 'importConductorCmd'));
}
