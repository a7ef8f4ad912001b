/**
 * docs/retention.md as a user follows it, on either store: the page's invoice.yaml, runs of it, `archive
 * --older-than`, then `list`, `status`, `history`, `replay`, `archive list` and `restore`, each checked as the page
 * says. `lf` runs the CLI on the store under test (a `cli` with `--store` or `--nats` given).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { ROOT, type CliResult } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

export const PAGE = readFileSync(join(ROOT, 'docs', 'retention.md'), 'utf8');
/** The page's invoice.yaml, word for word. */
export const INVOICE_YAML = `${markedBlock(PAGE, 'retention: invoice.yaml').join('\n')}\n`;
/** The page's commands, as lines (comments cut). */
export const COMMANDS = markedBlock(PAGE, 'retention: commands').map((l) => l.replace(/\s+#.*$/, '').trim());

type Lf = (...args: string[]) => Promise<CliResult>;

const ok = async (p: Promise<CliResult>): Promise<CliResult> => {
  const r = await p;
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return r;
};

const listed = async (lf: Lf): Promise<string[]> =>
  (JSON.parse((await ok(lf('list', '--json'))).stdout) as { runId: string }[]).map((r) => r.runId);

/** What a run reads as before and after: its status, its history, and replay's verdict. */
async function reads(lf: Lf, runId: string): Promise<{ status: unknown; history: unknown; replay: string }> {
  const status = JSON.parse((await ok(lf('status', runId, '--json'))).stdout) as Record<string, unknown>;
  const history = JSON.parse((await ok(lf('history', runId, '--json'))).stdout) as unknown;
  const replay = (await ok(lf('replay', runId))).stdout;
  return { status, history, replay };
}

type Periods = { period: string; runs: number; bytes: number; location: string }[];

/** `archive list --json` as the page shows it, checked against the full pass over the archive's index (full-pass.ts). */
async function archiveList(lf: Lf, fullPass: () => Promise<Periods>): Promise<Periods> {
  const { periods } = JSON.parse((await ok(lf('archive', 'list', '--json'))).stdout) as { periods: Periods };
  expect(periods).toEqual(await fullPass());
  return periods;
}

/**
 * `runIds`: settled runs of invoice made by the caller. Archives them as the page says, checks every read, restores
 * one and archives it again; `archive list` says what the full pass over the index says after each.
 */
export async function followThePage(lf: Lf, runIds: string[], fullPass: () => Promise<Periods>): Promise<void> {
  expect(COMMANDS[0]).toBe('ledgerflow archive --older-than 30d');
  expect(COMMANDS[1]).toBe('ledgerflow archive --older-than 7d --workflow invoice');
  const before = new Map<string, Awaited<ReturnType<typeof reads>>>();
  for (const id of runIds) before.set(id, await reads(lf, id));
  expect((await listed(lf)).sort()).toEqual([...runIds].sort());

  // The page's command with `0s` (which it names: every settled run), the runs having settled just now.
  const moved = await ok(lf('archive', '--older-than', '0s', '--workflow', 'invoice', '--json'));
  const out = JSON.parse(moved.stdout) as { archived: number; runs: { runId: string; period: string }[] };
  expect(out.archived).toBe(runIds.length);
  expect(out.runs.map((r) => r.runId).sort()).toEqual([...runIds].sort());
  expect(moved.stderr).toContain(`archived ${runIds.length} of ${runIds.length} runs`);
  const period = new Date().toISOString().slice(0, 7);
  expect(new Set(out.runs.map((r) => r.period))).toEqual(new Set([period]));

  expect(await listed(lf)).toEqual([]);
  for (const id of runIds) expect(await reads(lf, id)).toEqual(before.get(id));

  const list = { periods: await archiveList(lf, fullPass) };
  expect(list.periods).toEqual([expect.objectContaining({ period, runs: runIds.length })]);
  expect(list.periods[0]!.bytes).toBeGreaterThan(0);
  expect((await ok(lf('archive', 'list'))).stdout).toContain(period);

  // restore: back in list, read the same, and archived again later.
  const back = runIds[0]!;
  const restored = JSON.parse((await ok(lf('restore', back, '--json'))).stdout) as { restored: { runId: string } };
  expect(restored.restored.runId).toBe(back);
  expect(await listed(lf)).toEqual([back]);
  expect(await reads(lf, back)).toEqual(before.get(back));
  const again = { periods: await archiveList(lf, fullPass) };
  expect(again.periods[0]!.runs).toBe(runIds.length - 1);
  const notArchived = await lf('restore', back);
  expect(notArchived.code).toBe(2);
  expect(notArchived.stderr).toContain(`run ${back} is not archived: it is live`);

  const second = JSON.parse((await ok(lf('archive', '--older-than', '0s', '--json'))).stdout) as { archived: number };
  expect(second.archived).toBe(1);
  expect((await archiveList(lf, fullPass))[0]!.runs).toBe(runIds.length);
  expect(await listed(lf)).toEqual([]);
  expect(await reads(lf, back)).toEqual(before.get(back));
}

/** A bad `--older-than` (not a duration, longer than 365d, none) is exit 2 naming the flag, nothing moved. */
export async function badOlderThan(lf: Lf): Promise<void> {
  const bad = await lf('archive', '--older-than', 'a month');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--older-than a month is not a duration');
  const long = await lf('archive', '--older-than', '400d');
  expect(long.code).toBe(2);
  expect(long.stderr).toContain('--older-than 400d is longer than 365d');
  const none = await lf('archive');
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('--older-than');
}

/**
 * A run of `retention: 3s` with rounds every 300 ms (`serve` or an engine, whose output `out` gives): archived by a
 * round, restored, listed again, and archived again only once 3 s have passed since the restore; read throughout.
 * `listed`: the run ids `list` shows for the workflow.
 */
export async function restoredStaysLive(
  lf: Lf,
  runId: string,
  listed: () => Promise<string[]>,
  out: () => string,
): Promise<void> {
  await waitFor('a round to archive the run', async () => (await listed()).length === 0, {
    timeout: 30_000,
    detail: out,
  });
  const before = Date.now();
  const restored = await lf('restore', runId);
  expect(restored.code, restored.stderr).toBe(0);
  expect(await listed()).toEqual([runId]);
  await waitFor('a round to archive the restored run again', async () => (await listed()).length === 0, {
    timeout: 30_000,
    detail: out,
  });
  expect(Date.now() - before).toBeGreaterThanOrEqual(3_000);
  expect(out().match(/archived 1 settled run past their retention/g)).toHaveLength(2);
  expect((JSON.parse((await lf('status', runId, '--json')).stdout) as { status: string }).status).toBe('COMPLETED');
}
