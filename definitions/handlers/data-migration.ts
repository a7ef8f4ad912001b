/**
 * Handlers of the data-migration workflow (definitions/data-migration.yaml,
 * file movement): a manifest of the source's files with their
 * sha256, copies, a verification of every copy against the manifest, and the
 * sources removed only after that. Confined: manifest paths are relative and
 * stay inside the source and the target. A target file that exists with
 * other content is a conflict (refused, nothing copied); with the same
 * content it counts as copied, so a re-run after a crash goes on.
 *
 *   plan_migration  the manifest: each file's path, size, sha256; conflicts
 *   copy_files      copies each (folders made as needed)
 *   verify_copies   each copy's sha256 against the manifest
 *   remove_sources  removes each source file (only when asked: remove: true)
 *   write_manifest  <target>/MIGRATION.MANIFEST.yaml; fails on a mismatch
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { NonRetryableError, stringifyYaml as stringify } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

interface Planned { path: string; size: number; sha256: string }

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'MIGRATION_BAD_INPUT');
  return v;
}

/** A manifest path: relative, inside its folder. */
function inside(path: string): string {
  const n = normalize(path);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`)) throw new NonRetryableError(`path ${JSON.stringify(path)} leaves its folder`, 'MIGRATION_BAD_PATH');
  return n;
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

async function filesUnder(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) out.push(...await filesUnder(join(dir, e.name), base));
    else if (e.isFile()) out.push(relative(base, join(dir, e.name)));
  }
  return out;
}

const planned = (input: Record<string, unknown>) => ((input.files ?? []) as Planned[]).map((f) => ({ ...f, path: inside(f.path) }));

export const handlers: Handlers = {
  async plan_migration(input) {
    const source = text(input, 'source');
    const target = text(input, 'target');
    const paths = await filesUnder(source).catch((err: NodeJS.ErrnoException) => {
      throw new NonRetryableError(`cannot read the source ${source}: ${err.code ?? err.message}`, 'MIGRATION_NO_SOURCE');
    });
    const files: Planned[] = [];
    const conflicts: string[] = [];
    for (const path of paths) {
      const body = await readFile(join(source, path));
      const sum = createHash('sha256').update(body).digest('hex');
      files.push({ path, size: body.length, sha256: sum });
      const there = await sha256(join(target, path)).catch(() => null);
      if (there !== null && there !== sum) conflicts.push(path);
    }
    if (conflicts.length > 0) throw new NonRetryableError(`the target ${target} already has other files at ${conflicts.join(', ')}: nothing was copied`, 'MIGRATION_CONFLICT');
    return { files, bytes: files.reduce((n, f) => n + f.size, 0), conflicts };
  },

  async copy_files(input) {
    const source = text(input, 'source');
    const target = text(input, 'target');
    let copied = 0;
    for (const f of planned(input)) {
      await mkdir(dirname(join(target, f.path)), { recursive: true });
      await copyFile(join(source, f.path), join(target, f.path));
      copied++;
    }
    return { copied };
  },

  async verify_copies(input) {
    const target = text(input, 'target');
    const verified: string[] = [];
    const mismatched: string[] = [];
    for (const f of planned(input)) ((await sha256(join(target, f.path)).catch(() => null)) === f.sha256 ? verified : mismatched).push(f.path);
    return { verified, mismatched, all_verified: mismatched.length === 0 };
  },

  async remove_sources(input) {
    if (input.remove !== true) return { removed: [] };
    const source = text(input, 'source');
    const removed: string[] = [];
    for (const f of planned(input)) {
      await rm(join(source, f.path), { force: true });
      removed.push(f.path);
    }
    return { removed };
  },

  async write_manifest(input) {
    const target = text(input, 'target');
    const files = planned(input);
    const mismatched = (input.mismatched ?? []) as string[];
    const status = input.dry_run === true ? 'PLANNED' : mismatched.length > 0 ? 'MISMATCH' : 'MIGRATED';
    const manifest = join(target, 'MIGRATION.MANIFEST.yaml');
    await mkdir(target, { recursive: true });
    await writeFile(manifest, stringify({ migration: { source: text(input, 'source'), target, status, files, verified: input.verified ?? [], mismatched, removed: input.removed ?? [] } }));
    if (status === 'MISMATCH') throw new NonRetryableError(`${mismatched.length} cop${mismatched.length === 1 ? 'y does' : 'ies do'} not match the manifest (${mismatched.join(', ')}): the sources were kept; see ${manifest}`, 'MIGRATION_MISMATCH');
    return { manifest, status };
  },
};

export default handlers;
