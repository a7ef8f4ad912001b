/**
 * `ledgerflow demo` (`npm start`): the tour of the template library on the embedded store, with no server. In a fresh
 * store directory it:
 * - emits the sample `revenue_milestone`, `lead_qualification` and `compliance_alerts` events (the `sample:` of the
 *   bundled events/*.yaml),
 * - starts the batch inventory validation over a copy of the sample depot folders (so the receipts it writes land in
 *   the demo's directory, not in the package),
 * - drives every run with a `Service` (what `ledgerflow serve` runs), printing each task as it starts and settles,
 *   prefixed by its run,
 * - runs a task through the 1N/0UT files, answered by a shell script (agent-tour.ts, docs/agents.md),
 * - approves each approval the runs wait for as its first approver (the revenue plan change: `cfo`, with a comment)
 *   once it is pending; the service acts on it as it lands,
 * - and returns each run's trail (events, tasks and outcomes, approvals, duration) and output, with the files the
 *   handlers wrote.
 *
 * Everything bundled is read from packageRoot(), never the current directory, so it works from anywhere once installed.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { createEngine } from '../index.js';
import { loadDefinitionFile, packageRoot } from '../files/index.js';
import type { Definition } from '../definition/index.js';
import { UsageError } from '../errors/index.js';
import { SETTLED_STATUSES, type WorkflowStatus } from '../events/index.js';
import { runStatus, type RunSnapshot } from '../runtime/index.js';
import { Service, type ServiceNotice } from '../service/index.js';
import { openStore } from '../store/index.js';
import { withDataKeys } from '../encryption/index.js';
import { progressLines } from '../terminal/index.js';
import { deadLetterDir, emitEvent, fileDeadLetters, loadTriggerCatalog } from '../triggers/index.js';
import { AGENT_TOUR_WORKFLOW, startAgentTour, type AgentTour } from './agent-tour.js';
import { BATCH, summarize, type DemoReport, type DemoRun } from './report.js';

export { demoText, type DemoReport, type DemoRun, type DemoTask } from './report.js';

/** The events the demo sends, in order; each starts the bundled workflow of the same name. */
export const DEMO_EVENTS = ['revenue_milestone', 'lead_qualification', 'compliance_alerts'] as const;
/** A revenue plan change beyond ±this many percent waits for the CFO (revenue_milestone's `approval_threshold_pct` default). */
const REVENUE_THRESHOLD_PCT = 10;
const APPROVAL_COMMENT: Record<string, string> = {
  approve_plan_change: 'approved in the ledgerflow demo: the raise follows the month above target',
};

export interface DemoOptions {
  /** The store to use: absent or empty (a demo always starts fresh). Default: a new directory under `<cwd>/.ledgerflow/demo/`. */
  storeDir?: string;
  /** Live progress, one line at a time. */
  say?: (line: string) => void;
  /** Give up (and say which runs had not settled) after this long. Default 120 s. */
  timeoutMs?: number;
}

/** The store directory: the one given (absent or empty), else a new one under `.ledgerflow/demo/`. */
function freshStore(given: string | undefined): string {
  if (given === undefined) {
    const base = resolve('.ledgerflow', 'demo');
    mkdirSync(base, { recursive: true });
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    return mkdtempSync(join(base, `${stamp}-`));
  }
  const dir = resolve(given);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new UsageError(
      `--store ${given}: the demo starts from a fresh store, and ${dir} is not an empty directory; name a new one, or leave --store out (a new directory under .ledgerflow/demo/)`,
      { store: given },
    );
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Whether the revenue plan model (definitions/handlers/revenue.ts: the target moves by half the variance, capped at 25%) lands beyond the CFO's threshold. */
function revenueNeedsCfo(data: Record<string, unknown>): boolean {
  const revenue = Number(data.revenue);
  const target = Number(data.target);
  if (!(target > 0) || !(revenue >= target)) return false;
  return Math.min(25, (((revenue - target) / target) * 100) / 2) > REVENUE_THRESHOLD_PCT;
}

/**
 * The revenue_milestone payload the demo sends: the sample when its plan change is beyond the threshold (the CFO's
 * approval is then pending), else a variant at 125% of target that is, with a note saying so.
 */
export function revenuePayload(sample: Record<string, unknown>): { data: Record<string, unknown>; note?: string } {
  if (revenueNeedsCfo(sample)) return { data: sample };
  const target = Number(sample.target) > 0 ? Number(sample.target) : 1_000_000;
  const data = { ...sample, target, revenue: Math.round(target * 1.25) };
  return {
    data,
    note: `the revenue_milestone sample's plan change stays within ±${REVENUE_THRESHOLD_PCT}% (no approval needed), so the demo sends a variant with revenue ${data.revenue} (125% of target ${target}) to reach the CFO's approval`,
  };
}

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const RECEIPT = 'VALIDATION.RECEIPT.yaml';

export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const began = Date.now();
  const say = opts.say ?? (() => {});
  const root = packageRoot();
  const storeDir = freshStore(opts.storeDir);
  const outputRoot = join(storeDir, 'output');
  mkdirSync(outputRoot, { recursive: true });
  // The batch validation writes each folder's receipt into the folder: it runs over a copy, so the package's samples stay as shipped.
  const depots = join(outputRoot, 'depots');
  cpSync(join(root, 'definitions', 'samples', 'depots'), depots, {
    recursive: true,
    filter: (src) => !src.endsWith(`${sep}${RECEIPT}`),
  });
  // The handlers it runs (and the programs they start) find this store, as under the CLI's other commands.
  process.env.LEDGERFLOW_STORE = storeDir;

  const catalog = loadTriggerCatalog({ definitionsDir: join(root, 'definitions'), eventsDir: join(root, 'events') });
  const definitions = new Map<string, Definition>(catalog.definitions.map((d) => [d.id, d]));
  const notes: string[] = [];
  const labels = new Map<string, string>();
  const startedBy = new Map<string, string>();
  const settled = new Map<string, WorkflowStatus>();
  const approved = new Set<string>();
  const failures: string[] = [];
  let wake: () => void = () => {};

  const store = withDataKeys(
    openStore({ dir: storeDir, nats: false, file: { onWarning: (m) => say(`warning: ${m}`) } }),
  );
  const label = (runId: string) => labels.get(runId) ?? runId;
  const engine = createEngine({
    store,
    storeDir,
    outputRoot,
    onCommit: (events, before, after, definition) => {
      const runId = events[0]?.runId;
      if (!runId) return;
      for (const line of progressLines(events, before, after, definition)) say(`[${label(runId)}] ${line}`);
      approvePending(runId, after);
    },
    onLog: (task, message) => say(`    ${task}: ${message}`),
  });

  /** A HUMAN task pending in a run: approved once as its first approver (the revenue plan change: cfo), with a comment. */
  const approvePending = (runId: string, snap: RunSnapshot) => {
    for (const [task, t] of Object.entries(snap.context.tasks)) {
      if (t.status !== 'PENDING_APPROVAL' || approved.has(`${runId}/${task}`)) continue;
      approved.add(`${runId}/${task}`);
      const def = definitions.get(snap.context.workflowId)?.tasks.find((d) => d.id === task);
      const by = (def?.type === 'HUMAN' ? def.approvers[0] : undefined) ?? 'demo';
      const comment = APPROVAL_COMMENT[task] ?? 'approved in the ledgerflow demo';
      say(`[${label(runId)}] ✍ ${by} approves ${task}: "${comment}"`);
      engine.decide(runId, task, 'approved', by, comment).catch((err: Error) => {
        failures.push(`approving ${task} of run ${runId} as ${by}: ${err.message}`);
        wake();
      });
    }
    const status = runStatus(snap);
    if (SETTLED_STATUSES.includes(status)) {
      settled.set(runId, status);
      wake();
    }
  };

  const service = new Service({
    engine,
    storeDir,
    rescanMs: 250,
    onNotice: (n: ServiceNotice) => {
      if (n.kind === 'run.settled' && n.runId && n.status) settled.set(n.runId, n.status as WorkflowStatus);
      if (n.kind === 'run.error' || n.kind === 'tick.error') failures.push(n.message);
      wake();
    },
  });
  const runIds: string[] = [];
  let agentTour: AgentTour | null = null;
  try {
    try {
      // Declared before anything runs, so the engine holds the tour task's attempt for the agent.
      agentTour = await startAgentTour(store, join(outputRoot, 'agent'), say, (m) => {
        failures.push(m);
        wake();
      });
      await service.start();
      say(
        `store ${relativeOrAbsolute(storeDir)} (files the handlers write go under ${relativeOrAbsolute(outputRoot)})`,
      );

      for (const type of DEMO_EVENTS) {
        const spec = catalog.eventTypes.get(type);
        if (!spec?.sample)
          throw new UsageError(`the bundled events/${type}.yaml has no sample; the demo sends each event's sample`, {
            type,
          });
        let data: Record<string, unknown> = spec.sample;
        if (type === 'revenue_milestone') {
          const payload = revenuePayload(spec.sample);
          data = payload.data;
          if (payload.note) {
            notes.push(payload.note);
            say(`note: ${payload.note}`);
          }
        }
        const event = { id: `demo-${type}`, type, time: new Date().toISOString(), source: 'ledgerflow demo', data };
        const result = await emitEvent(event, {
          store,
          catalog,
          deadLetters: fileDeadLetters(deadLetterDir(storeDir)),
          drive: false,
          onRunStarted: (r) => {
            labels.set(r.runId, r.workflowId);
            startedBy.set(r.runId, `event ${type} ${event.id}`);
            say(`run ${r.runId} started (${r.workflowId} v${r.version}) by event ${type}`);
          },
        });
        if (!result.accepted) throw new UsageError(`the sample ${type} event was refused: ${result.reason}`, { type });
        runIds.push(...result.runs.map((r) => r.runId));
      }

      const batch = loadDefinitionFile(join(root, 'definitions', `${BATCH}.yaml`));
      const batchId = await engine.start(
        batch.definition,
        { parent_folder: depots, policy_file: join(root, 'definitions', 'samples', 'INVENTORY.POLICY.yaml') },
        {
          source: { file: batch.file, ...(batch.handlersPath ? { handlers: batch.handlersPath } : {}) },
        },
      );
      labels.set(batchId, BATCH);
      startedBy.set(batchId, 'run');
      runIds.push(batchId);
      say(
        `run ${batchId} started (${BATCH} v${batch.definition.version}) over ${readdirSync(depots).length} folders in ${depots}`,
      );

      const tour = loadDefinitionFile(agentTour.file);
      // The package's own alpha depot: the batch run writes a receipt into the copy meanwhile.
      const tourId = await engine.start(
        tour.definition,
        { folder: join(root, 'definitions', 'samples', 'depots', 'alpha') },
        { source: { file: tour.file } },
      );
      labels.set(tourId, AGENT_TOUR_WORKFLOW);
      startedBy.set(tourId, 'run');
      runIds.push(tourId);
      say(
        `run ${tourId} started (${AGENT_TOUR_WORKFLOW} v1): its task is done by agent/agent.sh through agent/1N.3OX and agent/0UT.3OX`,
      );

      // Wait until every run settled (the service says so), or something went wrong, or time is up.
      const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => check(true), Math.max(0, deadline - Date.now()));
        const check = (late = false) => {
          if (failures.length > 0) {
            clearTimeout(timer);
            fail(new Error(failures.join('; ')));
            return;
          }
          if (runIds.every((id) => settled.has(id))) {
            clearTimeout(timer);
            done();
            return;
          }
          if (late)
            fail(
              new Error(
                `the demo did not finish in ${opts.timeoutMs ?? 120_000} ms: ${runIds
                  .filter((id) => !settled.has(id))
                  .map(label)
                  .join(', ')} not settled (see \`npx ledgerflow --store ${storeDir} list\`)`,
              ),
            );
        };
        wake = () => check();
        check();
      });
    } finally {
      await agentTour?.stop();
      await service.stop();
    }

    const runs: DemoRun[] = [];
    for (const runId of runIds) {
      const loaded = await engine.load(runId);
      runs.push(summarize(loaded.events, loaded.snapshot, loaded.seq, startedBy.get(runId) ?? 'run'));
    }
    const files = filesUnder(outputRoot).filter((f) => !f.startsWith(`depots${sep}`) || f.endsWith(RECEIPT));
    const store_ = relativeOrAbsolute(storeDir);
    const revenue = runs.find((r) => r.workflowId === 'revenue_milestone');
    return {
      ok: runs.every((r) => r.status === 'COMPLETED'),
      store: storeDir,
      outputRoot,
      durationMs: Date.now() - began,
      notes,
      runs,
      files,
      commands: [
        `npx ledgerflow --store ${store_} list`,
        ...(revenue
          ? [
              `npx ledgerflow --store ${store_} history ${revenue.runId}`,
              `npx ledgerflow --store ${store_} status ${revenue.runId}`,
            ]
          : []),
        `npx ledgerflow --store ${store_} replay --all`,
        `npx ledgerflow --store ${store_} watch --all --keep-open`,
        `npx ledgerflow --store ${store_} ui`,
      ],
    };
  } finally {
    await store.close();
  }
}

/** The store as the user would type it: relative to the current directory when under it. */
function relativeOrAbsolute(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : dir;
}
