/**
 * What `list` and `status` say of the archive (docs/retention.md): that runs `list` leaves out are archived, and that
 * the run `status` shows was read from the archive. Hints only: where the archive cannot be read cheaply and directly
 * (a person's NATS user may not read KV LF_ARCHIVE_INDEX; asking the engines may wait 10 s) or fails, nothing is said,
 * and the command's own output is as before.
 */
import type { RunArchive } from '../../store/index.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { storeFor } from '../open-store.js';
import { sideFor } from '../runs.js';

async function readableArchive(g: GlobalOpts): Promise<RunArchive | null> {
  if (usesNats(g) && !(await (await sideFor(g)).mayWrite())) return null;
  return storeFor(g).archive?.() ?? null;
}

/** How many runs the archive holds (its per-period counts, kept as runs move), 0 when it cannot be read. */
export async function archivedRunCount(g: GlobalOpts): Promise<number> {
  try {
    const archive = await readableArchive(g);
    return archive ? (await archive.periods()).reduce((n, p) => n + p.runs, 0) : 0;
  } catch {
    return 0;
  }
}

/** The period the run is archived in, null when it is live or the archive cannot be read. */
export async function archivedPeriodOf(g: GlobalOpts, runId: string): Promise<string | null> {
  try {
    const archive = await readableArchive(g);
    return archive ? ((await archive.find(runId))?.period ?? null) : null;
  } catch {
    return null;
  }
}

/** `list`'s word on stderr when it shows no run and the archive holds some. */
export function archivedListText(held: number): string {
  return `the archive holds ${held} run${held === 1 ? '' : 's'}, which list leaves out: \`ledgerflow archive list\` counts them by month, \`ledgerflow status <runId>\` reads one, \`ledgerflow restore <runId>\` brings one back`;
}

/** `status`'s line under its header for an archived run. */
export function archivedStatusText(runId: string, period: string): string {
  return `read from the archive (${period}); \`ledgerflow restore ${runId}\` brings it back into the live log`;
}
