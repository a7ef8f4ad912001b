/**
 * docs/getting-started.md, the depot audit, as its commands stand: `run definitions/folder-audit.yaml --root
 * definitions/samples/audit` waits for the sign-off (exit 3, the signal to send printed), `signal … audit_signed_off`
 * completes it with its summary in audit-reports/audit.yaml, `status` shows the MAP's items, and each item's child
 * run is linked from the history (→ child run) and names the audit run back.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

describe('the depot audit of docs/getting-started.md', () => {
  it('waits for its sign-off, completes on the signal, and links each folder’s child run', async () => {
    const dir = tempDir('lf-audit-tour-');
    cpSync(join(ROOT, 'definitions'), join(dir, 'definitions'), { recursive: true });
    const lf = (...args: string[]) => cli(args, { cwd: dir });

    const ran = await lf('run', 'definitions/folder-audit.yaml', '--root', 'definitions/samples/audit');
    expect(ran.code, ran.stderr).toBe(3);
    const runId = /ledgerflow signal (\S+) audit_signed_off --data/.exec(ran.stdout + ran.stderr)?.[1];
    expect(runId, ran.stdout + ran.stderr).toBeDefined();

    const signed = await lf('signal', runId!, 'audit_signed_off', '--data', '{"by":"alice","note":"counts match"}');
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`run ${runId} COMPLETED`);
    expect(existsSync(join(dir, 'audit-reports', 'audit.yaml'))).toBe(true);

    const status = await lf('status', runId!);
    expect(status.stdout).toMatch(/report_each\s+COMPLETED\s+items: 3 of 3 done/);

    const history = (await lf('history', runId!)).stdout;
    const children = [...history.matchAll(/task\.started\s+report_each\[(\d)\] attempt 1 {2}→ child run (\S+)/g)];
    expect(children.map((m) => m[2])).toEqual(
      expect.arrayContaining([0, 1, 2].map((i) => `${runId}-report_each-m${i}-1`)),
    );
    for (const [, item, child] of children) {
      const view = JSON.parse((await lf('status', child!, '--json')).stdout) as Record<string, unknown>;
      expect(view).toMatchObject({
        workflowId: 'folder-report',
        status: 'COMPLETED',
        parent: { runId, task: 'report_each', item: Number(item) },
      });
    }
  });
});
