/**
 * Seed 003's failure handler on NATS, as docs/language.md says: a run whose
 * failure_workflow is the seed's (log_to_incident, notify_commander,
 * preserve_state) fails on a worker, and the engine runs its failure handler
 * as a run of its own, `<runId>-failure`: the incident in the engine's
 * .3ox/incidents/ and on lf.incidents.<workflow>, the commander told on
 * lf.notify.<workflow>.role.commander (a rule of role commander with
 * `nats: true`), the state preserved. Never handed to a worker. Real nats-server.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { def } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { spawnLedgerflow } from '../helpers/cluster-run.js';

const flow = def(`
workflow:
  id: nightly-export
  version: 1
  tasks:
    - id: export
      type: SIMPLE
      handler: export
      retry_policy: { max_attempts: 1 }
  failure_workflow:
    id: "nightly-export-failure-handler"
    steps:
      - log_to_incident
      - notify_commander
      - preserve_state
`);

describe.skipIf(noNats)("the failure handler's built-in steps, on NATS", () => {
  const projectDir = tempDir();
  const handled: string[] = [];
  const c = useCluster({
    engines: 1,
    deploy: [flow],
    engine: {
      projectDir,
      notifications: {
        rules: [{ on: [], roles: ['commander'], nats: true }],
        delivery: { attempts: 3, backoffMs: 100, maxBackoffMs: 1000, timeoutMs: 5000 },
      },
    },
    handlers: new Proxy(
      {
        export: async () => {
          throw Object.assign(new Error('disk quota exceeded'), { retryable: false });
        },
      },
      {
        // A worker offered a built-in step would say so: none must be.
        get: (target, name) => {
          if (typeof name === 'string' && name.startsWith('_')) handled.push(name);
          return Reflect.get(target, name);
        },
      },
    ),
  });

  it('the engine runs <runId>-failure: incident file and lf.incidents, the commander on NATS, the state preserved', async () => {
    const nc = await c.connect();
    const incidents: Record<string, unknown>[] = [];
    const commander: Record<string, unknown>[] = [];
    const subIncidents = nc.subscribe('lf.incidents.nightly-export', {
      callback: (_e, m) => {
        incidents.push(m.json());
      },
    });
    const subCommander = nc.subscribe('lf.notify.nightly-export.role.commander', {
      callback: (_e, m) => {
        commander.push(m.json());
      },
    });
    await nc.flush();

    const { runId } = await c.client.start('nightly-export', {});
    await waitFor('the run to fail', async () => (await c.runs.status(runId))?.status === 'FAILED', {
      timeout: 30_000,
    });
    const handler = await waitFor(
      'its failure handler to complete',
      async () => {
        const s = await c.runs.status(`${runId}-failure`);
        return s?.status === 'COMPLETED' && s;
      },
      { timeout: 30_000 },
    );
    expect(handler.workflowId).toBe('nightly-export-failure-handler');
    expect(Object.keys(handler.tasks).sort()).toEqual(['log_to_incident', 'notify_commander', 'preserve_state']);

    const file = parse(readFileSync(join(projectDir, '.3ox', 'incidents', `${runId}.yaml`), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(file).toMatchObject({
      run_id: runId,
      workflow: 'nightly-export',
      failed_task: 'export',
      error: { message: 'disk quota exceeded' },
    });
    await waitFor('the incident and the commander message', () => incidents.length === 1 && commander.length === 1);
    expect(incidents[0]).toMatchObject({ incident: `INC-${runId}`, run_id: runId });
    expect(commander[0]).toMatchObject({ kind: 'incident', runId, failedTask: 'export' });
    expect(existsSync(join(projectDir, '.3ox', 'preserved', runId, 'state.yaml'))).toBe(true);
    expect(handled).toEqual([]);
    subIncidents.unsubscribe();
    subCommander.unsubscribe();
  }, 60_000);
});

describe.skipIf(noNats)(
  "the failure handler's built-in steps, with the engine running the handlers (ledgerflow engine --handlers)",
  () => {
    const c = useCluster({ engines: 0, deploy: [flow] });

    it('the engine process that runs the failing task also runs <runId>-failure, writing the incident under its working folder', async () => {
      const cwd = tempDir();
      writeFileSync(
        join(cwd, 'handlers.mjs'),
        "export const handlers = { export: async () => { throw Object.assign(new Error('disk quota exceeded'), { retryable: false }); } };\nexport default handlers;\n",
      );
      const engine = spawnLedgerflow(
        'engine',
        ['--nats', c.url, 'engine', '--no-schedules', '--handlers', 'handlers.mjs'],
        { cwd, markers: join(cwd, 'markers'), env: { LEDGERFLOW_STATE_FILE: 'off' } },
      );
      try {
        await engine.started();
        const { runId } = await c.client.start('nightly-export', {});
        const handler = await waitFor(
          'its failure handler to complete',
          async () => {
            const s = await c.runs.status(`${runId}-failure`);
            return s?.status === 'COMPLETED' && s;
          },
          { timeout: 30_000, detail: () => engine.output() },
        );
        expect(Object.keys(handler.tasks).sort()).toEqual(['log_to_incident', 'notify_commander', 'preserve_state']);
        expect((await c.runs.status(runId))?.status).toBe('FAILED');
        expect(parse(readFileSync(join(cwd, '.3ox', 'incidents', `${runId}.yaml`), 'utf8'))).toMatchObject({
          run_id: runId,
          failed_task: 'export',
          error: { message: 'disk quota exceeded' },
        });
        expect(existsSync(join(cwd, '.3ox', 'preserved', runId, 'events.jsonl'))).toBe(true);
      } finally {
        await engine.kill('SIGTERM');
      }
    }, 60_000);
  },
);
