/**
 * Seed 003's failure handler as docs/language.md ("The failure handler's
 * built-in steps") tells a user to try it: the bundled inventory validation
 * (its failure_workflow is the seed's: log_to_incident, notify_commander,
 * preserve_state) waits for the commander on a strict policy, the commander
 * rejects, and the run's failure handler runs as a recorded run of its own:
 * the incident file, the commander's webhook (a notifications rule of role
 * commander), the preserved state. Once per failed run. Real CLI processes on
 * the embedded store.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const DEFINITION = join(ROOT, 'definitions', 'inventory-validation.yaml');

function project(): string {
  const cwd = tempDir();
  cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
  writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
  return cwd;
}

/** Runs the seed's workflow on the strict policy: WAITING for the commander (exit 3). Returns its run id. */
async function waitingRun(cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await cli(['run', DEFINITION, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml', '--json'], {
    cwd,
    env,
  });
  expect(r.code, r.stderr).toBe(3);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

const received: { body: Record<string, unknown>; key: string | undefined }[] = [];
const hook = createServer((req: IncomingMessage, res) => {
  let text = '';
  req.on('data', (d) => (text += d));
  req.on('end', () => {
    received.push({
      body: JSON.parse(text) as Record<string, unknown>,
      key: req.headers['idempotency-key'] as string | undefined,
    });
    res.end('ok');
  });
});
const hookUrl = new Promise<string>((res) =>
  hook.listen(0, '127.0.0.1', () => res(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/commander`)),
);
afterAll(() => new Promise<void>((res) => hook.close(() => res())));

describe("the failure handler's built-in steps (seed 003), on the embedded store", () => {
  it('a rejected run starts <runId>-failure once: an incident file, the commander notified, the state preserved, each step in its history', async () => {
    const cwd = project();
    writeFileSync(
      join(cwd, 'notifications.yaml'),
      `notifications:\n  - role: commander\n    webhook: ${await hookUrl}\n`,
    );
    const env = { LEDGERFLOW_NOTIFICATIONS: join(cwd, 'notifications.yaml') };
    const runId = await waitingRun(cwd, env);

    const rejected = await cli(
      ['reject', runId, 'alert_cmd_bridge', '--as', 'commander', '--comment', 'not compliant'],
      { cwd, env },
    );
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toMatch(/✓ log_to_incident/);
    expect(rejected.stdout).toMatch(/✓ notify_commander/);
    expect(rejected.stdout).toMatch(/✓ preserve_state/);
    expect(rejected.stdout).toContain(`run ${runId} FAILED`);

    // A recorded run of its own, named by the failed run's status, each step in its history.
    const list = JSON.parse((await cli(['list', '--json'], { cwd })).stdout) as {
      runId: string;
      workflowId: string;
      status: string;
    }[];
    expect(list.find((r) => r.runId === `${runId}-failure`)).toMatchObject({
      workflowId: 'inventory-validation-failure-handler',
      status: 'COMPLETED',
    });
    expect((await cli(['status', runId], { cwd })).stdout).toContain(`failure workflow run ${runId}-failure`);
    const history = JSON.parse((await cli(['history', `${runId}-failure`, '--json'], { cwd })).stdout) as {
      type: string;
      data: { task?: string; output?: Record<string, unknown> };
    }[];
    const completed = new Map(
      history.filter((e) => e.type === 'task.completed').map((e) => [e.data.task, e.data.output]),
    );
    expect([...completed.keys()].sort()).toEqual(['log_to_incident', 'notify_commander', 'preserve_state']);

    // log_to_incident: .3ox/incidents/<run>.yaml
    const incident = parse(readFileSync(join(cwd, '.3ox', 'incidents', `${runId}.yaml`), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(incident).toMatchObject({
      incident: `INC-${runId}`,
      run_id: runId,
      workflow: 'inventory-validation-v1',
      status: 'FAILED',
      failed_task: 'alert_cmd_bridge',
      error: { message: 'rejected by commander: not compliant' },
      failure_run: `${runId}-failure`,
    });
    expect(completed.get('log_to_incident')).toMatchObject({
      incident: `INC-${runId}`,
      file: join('.3ox', 'incidents', `${runId}.yaml`),
    });

    // notify_commander: the webhook of role commander got the incident, under a stable id.
    expect(received).toHaveLength(1);
    expect(received[0]!.key).toBe(`${runId}/commander`);
    expect(received[0]!.body).toMatchObject({
      kind: 'incident',
      role: 'commander',
      runId,
      workflowId: 'inventory-validation-v1',
      status: 'FAILED',
      failedTask: 'alert_cmd_bridge',
    });
    expect(completed.get('notify_commander')).toMatchObject({ sent: [{ delivered: true, statusCode: 200 }] });

    // preserve_state: the state-file entry, every task output, the last events.
    const preserved = join(cwd, '.3ox', 'preserved', runId);
    expect(readdirSync(preserved).sort()).toEqual(['events.jsonl', 'outputs', 'state.yaml']);
    const state = parse(readFileSync(join(preserved, 'state.yaml'), 'utf8')) as Record<
      string,
      { status: string; tasks: Record<string, { status: string }> }
    >;
    expect(state[runId]).toMatchObject({ status: 'FAILED', tasks: { alert_cmd_bridge: { status: 'FAILED' } } });
    expect(readdirSync(join(preserved, 'outputs'))).toContain('validate_compliance.json');
    const events = readFileSync(join(preserved, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    const failedHistory = JSON.parse((await cli(['history', runId, '--json'], { cwd })).stdout) as { type: string }[];
    expect(events.map((e) => e.type)).toEqual(failedHistory.map((e) => e.type));
    expect(events.at(-1)!.type).toBe('approval.recorded');

    // Once per failed run: resuming it starts nothing again, and nobody is notified twice.
    const again = await cli(['resume', runId], { cwd, env });
    expect(again.stdout).not.toMatch(/log_to_incident started/);
    expect(received).toHaveLength(1);
    expect(JSON.parse((await cli(['list', '--json'], { cwd })).stdout) as unknown[]).toHaveLength(2);
  });

  it('without a target of role commander, notify_commander says nobody was told, and the handler completes', async () => {
    const cwd = project();
    const runId = await waitingRun(cwd);
    const rejected = await cli(['reject', runId, 'alert_cmd_bridge', '--as', 'commander'], { cwd });
    expect(rejected.stdout).toContain('no notification target has role commander: nobody was told');
    const status = JSON.parse((await cli(['status', `${runId}-failure`, '--json'], { cwd })).stdout) as {
      status: string;
      tasks: Record<string, { output: { note?: string } }>;
    };
    expect(status.status).toBe('COMPLETED');
    expect(status.tasks.notify_commander!.output.note).toMatch(/^no notification target has role commander/);
    expect(existsSync(join(cwd, '.3ox', 'incidents', `${runId}.yaml`))).toBe(true);
  });

  it('a process that died before starting it leaves it to `resume` of the failed run, which starts it once', async () => {
    const cwd = project();
    const runId = await waitingRun(cwd);
    // Recorded by a process that drives nothing (a library caller's recordInput, as the dashboard does): the run fails, its handler is owed.
    const { Engine } = await import('../../src/local/index.js');
    const { FileEventStore } = await import('../../src/store/index.js');
    const { recordInput } = await import('../../src/executor/index.js');
    const store = new FileEventStore(join(cwd, '.ledgerflow'));
    try {
      await recordInput(
        new Engine({ store }).commits,
        runId,
        { kind: 'approval', taskId: 'alert_cmd_bridge', decision: 'rejected' },
        { by: 'commander' },
      );
    } finally {
      await store.close(); // its journal's handle, left to the collector otherwise (a warning in a later file's output)
    }
    expect(existsSync(join(cwd, '.3ox', 'incidents'))).toBe(false);
    const resumed = await cli(['resume', runId], { cwd });
    expect(resumed.stdout).toMatch(/✓ log_to_incident/);
    expect(existsSync(join(cwd, '.3ox', 'incidents', `${runId}.yaml`))).toBe(true);
  });
});
