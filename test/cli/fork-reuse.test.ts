/**
 * What `ledgerflow fork` says it reused, with the README's expense claim (docs/runs.md "Forking a run": a task is
 * reused only "if everything upstream of it ends the same way", decisions evaluated again with the new input;
 * forkOf.reused lists the reused tasks). A claim of 1,500 signed off by alice, forked at pay_claim with 10: size_gate
 * picks no case, so manager_sign_off is skipped, not reused, and neither `fork`, `status`, `status --json` nor
 * `history` names it; forked with 2,000 the sign-off is reused.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';
import { markedBlock } from '../docs/markdown.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's expense-claim.yaml and its handler module (`exports check_claim and pay_claim`), in a fresh folder. */
function project(): string {
  const dir = tempDir('lf-fork-reuse-');
  writeFileSync(join(dir, 'expense-claim.yaml'), `${markedBlock(README, 'example').join('\n')}\n`);
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(
    join(dir, 'handlers', 'expenses.ts'),
    `export default {
  check_claim: async (input: { claim_id: string }) => ({ receipts_ok: true, claim: input.claim_id }),
  pay_claim: async (input: { claim_id: string }) => ({ paid: input.claim_id }),
};
`,
  );
  return dir;
}

type View = { status: string; forkOf: { reused: string[] }; tasks: Record<string, { status: string }> };

describe('ledgerflow fork names only what it reused (README expense claim)', () => {
  it('a fork whose decision now skips the sign-off does not say it reused it', async () => {
    const dir = project();
    const lf = (...args: string[]) =>
      cli(['--store', join(dir, 'store'), ...args], { cwd: dir, env: { LEDGERFLOW_USER: 'alice' } });
    const ran = await lf('run', 'expense-claim.yaml', '--claim_id', 'C-17', '--amount', '1500', '--json');
    expect(ran.code, ran.stderr).toBe(3);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const approved = await lf('approve', runId, 'manager_sign_off', '--as', 'alice');
    expect(approved.code, approved.stderr).toBe(0);

    const small = await lf('fork', runId, '--at', 'pay_claim', '--amount', '10', '--claim_id', 'C-99');
    expect(small.code, small.stderr).toBe(0);
    expect(small.stdout).toContain(
      `fork of run ${runId} at pay_claim\nreused the outputs of check_claim (not run again)\n`,
    );
    const forkId = /run (\S+) started: fork of/.exec(small.stdout)![1]!;
    const status = await lf('status', forkId);
    expect(status.stdout.split('\n')[2]).toBe(
      `fork of run ${runId} at task pay_claim by alice (reused the outputs of check_claim)`,
    );
    const view = JSON.parse((await lf('status', forkId, '--json')).stdout) as View;
    expect([view.status, view.tasks.manager_sign_off!.status, view.forkOf.reused]).toEqual([
      'COMPLETED',
      'SKIPPED',
      ['check_claim'],
    ]);
    const history = await lf('history', forkId);
    expect(history.stdout.split('\n')[0]).toContain('(a fork, reusing check_claim)');
    expect(history.stdout).not.toContain('manager_sign_off reused');

    // Over 1,000 size_gate picks large again: the sign-off ends the same way and is reused, not asked for again.
    const large = await lf('fork', runId, '--at', 'pay_claim', '--amount', '2000', '--claim_id', 'C-99', '--json');
    expect(large.code, large.stderr).toBe(0);
    expect(large.stderr).toContain('reused the outputs of check_claim, manager_sign_off (not run again)');
    expect(JSON.parse(large.stdout)).toMatchObject({ status: 'COMPLETED' });
  }, 60_000);
});
