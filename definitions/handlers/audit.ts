/**
 * Handlers of the folder audit (definitions/folder-audit.yaml) and its
 * per-folder sub-workflow (definitions/folder-report.yaml): real work on real
 * files, deterministic (sorted listings, content hashes, no clock), so a
 * re-run of an attempt gives the same output.
 *
 *   snapshot_folders  a digest of every file under the root (path, size,
 *                     sha256): the audit waits until two snapshots in a row
 *                     agree, i.e. nobody is still writing into the folders
 *   list_folders      the root's immediate subfolders, one per depot
 *   count_files       one folder's files, bytes, and stock rows (CSV lines)
 *   write_audit_report the summary of every folder's report and who signed off
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

async function filesUnder(root: string, dir = root): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new NonRetryableError(`cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'AUDIT_NO_FOLDER');
  }
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await filesUnder(root, full)));
    else if (e.isFile()) files.push(relative(root, full).split('\\').join('/'));
  }
  return files;
}

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'AUDIT_BAD_INPUT');
  return v;
}

/** The last iteration's digest, from the loop's `iterations` output (absent on the first iteration). */
function previousDigest(iterations: unknown): string | null {
  if (!Array.isArray(iterations) || iterations.length === 0) return null;
  const last = iterations[iterations.length - 1] as { snapshot?: { digest?: unknown } } | null;
  return typeof last?.snapshot?.digest === 'string' ? last.snapshot.digest : null;
}

export const handlers: Handlers = {
  async snapshot_folders(input) {
    const root = text(input, 'root');
    const hash = createHash('sha256');
    const files = await filesUnder(root);
    for (const f of files) {
      const body = await readFile(join(root, f));
      hash.update(`${f}\0${body.length}\0${createHash('sha256').update(body).digest('hex')}\n`);
    }
    const digest = hash.digest('hex').slice(0, 16);
    const previous = previousDigest(input.iterations);
    return { digest, files: files.length, changed: digest !== previous };
  },

  async list_folders(input) {
    const root = text(input, 'root');
    const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new NonRetryableError(`cannot read folder ${root}: ${err.code ?? err.message}`, 'AUDIT_NO_FOLDER');
    });
    const folders = entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name).split('\\').join('/')).sort();
    return { folders, count: folders.length };
  },

  async count_files(input) {
    const folder = text(input, 'folder');
    const files = await filesUnder(folder);
    let bytes = 0;
    let stockRows = 0;
    for (const f of files) {
      bytes += (await stat(join(folder, f))).size;
      // A stock list is a CSV with a header line: every further non-empty line is one stock row.
      if (f.endsWith('.csv')) stockRows += (await readFile(join(folder, f), 'utf8')).split('\n').slice(1).filter((l) => l.trim() !== '').length;
    }
    return { folder, files: files.length, bytes, stock_rows: stockRows };
  },

  async write_audit_report(input) {
    const reports = Array.isArray(input.reports) ? input.reports as ({ folder: string; files: number; bytes: number; stock_rows: number } | null)[] : [];
    const done = reports.filter((r): r is NonNullable<typeof r> => r !== null);
    const signoff = (input.signoff ?? {}) as { by?: unknown; note?: unknown };
    return {
      folders: done.length,
      files: done.reduce((n, r) => n + r.files, 0),
      bytes: done.reduce((n, r) => n + r.bytes, 0),
      stock_rows: done.reduce((n, r) => n + r.stock_rows, 0),
      empty_folders: done.filter((r) => r.files === 0).map((r) => r.folder),
      signed_off_by: typeof signoff.by === 'string' ? signoff.by : null,
      note: typeof signoff.note === 'string' ? signoff.note : null,
      reports: done,
    };
  },
};

export default handlers;
