/**
 * The command's code cache: V8's compiled code of the command bundle (dist/cli/ledgerflow.cjs) as a run of one command
 * left it, read by the next run of that command so it compiles next to nothing (launch.ts).
 *
 * - *Where.* `$LEDGERFLOW_COMPILE_CACHE` (a folder; `off` for none), else `$XDG_CACHE_HOME/ledgerflow`, else
 *   `~/.cache/ledgerflow`. The folder must be this user's and writable by no one else, since V8 runs what a cache
 *   holds: one that is not (another user's, a symbolic link) is not used. A folder that cannot be made or written means
 *   no cache: the command runs as it would without one, only slower to start.
 * - *Which.* One file per bundle (its digest), Node version, architecture, node flags and command (the first word of
 *   the command line: what `status` compiles is not what `serve` does). V8 refuses a cache made by another V8 or with
 *   other flags; the launcher then writes a new one.
 * - *When written.* When there was none or V8 refused it: at exit, or two seconds into a command that keeps running
 *   (`serve`, `engine`, `worker`), whichever comes first; written beside and renamed into place, so a reader never sees
 *   half a file. The caches of all but the two other bundles last cached are removed then (each rebuilt or upgraded
 *   package leaves its caches behind otherwise; two installs may take turns).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Script } from 'node:vm';

/** How long a command that keeps running runs before its cache is written. */
const WRITE_AFTER_MS = 2_000;

export interface CompileCache {
  /** The cached data to compile with, if a cache is there. */
  readonly data: Buffer | undefined;
  /** Called with the script compiled with `data`: writes a cache when there was none or V8 refused it. */
  keep(script: Script): void;
}

const NONE: CompileCache = { data: undefined, keep: () => {} };

/** The cache folder, made if missing; null when there is none to use (off, not ours, cannot be made). */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string | null {
  const set = env.LEDGERFLOW_COMPILE_CACHE;
  if (set === 'off' || set === '0') return null;
  let dir: string;
  if (set) dir = set;
  else {
    const base = env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : '');
    if (!base) return null;
    dir = join(base, 'ledgerflow');
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return null;
    // Not another user's, nor one others may write into: what a cache holds is run as code.
    if (typeof process.getuid === 'function' && (st.uid !== process.getuid() || (st.mode & 0o022) !== 0)) return null;
    return dir;
  } catch {
    return null; // a read-only home, a file in the way: no cache, the command runs without one
  }
}

/**
 * A cache file: MAGIC, the SHA-256 of the data, the data. V8 checks a cache's version, flags and length but not its
 * bytes (a release build has no checksum), and a flipped byte would be run as code: a file whose data does not match
 * its digest is not used (about a millisecond for a 1.5 MB cache).
 */
const MAGIC = Buffer.from('LFC1');
const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

function sealed(data: Buffer): Buffer {
  return Buffer.concat([MAGIC, sha256(data), data]);
}

/** The data of a sealed file, or undefined when it is not one or its data is not what was sealed. */
function unsealed(file: Buffer): Buffer | undefined {
  const at = MAGIC.length + 32;
  if (file.length <= at || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = file.subarray(at);
  return sha256(data).equals(file.subarray(MAGIC.length, at)) ? data : undefined;
}

/** Bundles whose caches are kept besides the current one: a global install, a project's and a clone may take turns. */
const KEEP_OTHER_BUNDLES = 2;

const STALE_TMP_MS = 60 * 60_000;

function mtimeOf(path: string): number | null {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Removes the caches of all but the KEEP_OTHER_BUNDLES bundles last written for, besides `digest`'s, and stale temporaries. */
function pruneOtherBundles(dir: string, digest: string): void {
  const newest = new Map<string, number>();
  const files = new Map<string, string[]>();
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    const at = mtimeOf(join(dir, name));
    if (at === null) continue; // removed meanwhile by another command pruning
    // A file a process was writing when it was killed (SIGKILL between write and rename), an hour on.
    if (name.endsWith('.tmp')) {
      if (now - at > STALE_TMP_MS) rmSync(join(dir, name), { force: true });
      continue;
    }
    const other = /^cli-([0-9a-f]{16})-/.exec(name)?.[1];
    if (other === undefined || other === digest) continue;
    newest.set(other, Math.max(newest.get(other) ?? 0, at));
    files.set(other, [...(files.get(other) ?? []), name]);
  }
  const old = [...newest.entries()].sort((a, b) => b[1] - a[1]).slice(KEEP_OTHER_BUNDLES);
  for (const [other] of old) for (const name of files.get(other) ?? []) rmSync(join(dir, name), { force: true });
}

/** The options `ledgerflow` itself takes with a value (`ledgerflow --store d run …`): their value is not the command. */
const GLOBAL_WITH_VALUE = new Set(['--store', '--nats']);

/** The command a cache is for: the first word of the command line, if it looks like one. */
export function commandOf(argv: readonly string[]): string {
  let word: string | undefined;
  for (let i = 0; i < argv.length && word === undefined; i++) {
    if (GLOBAL_WITH_VALUE.has(argv[i]!)) i++;
    else if (!argv[i]!.startsWith('-')) word = argv[i];
  }
  return word !== undefined && /^[a-z][a-z0-9-]{0,31}$/.test(word) ? word : 'none';
}

/** The code cache of `bundle` for this process's command line; none when the bundle has no digest beside it. */
export function compileCache(bundle: string, argv: readonly string[]): CompileCache {
  const dir = cacheFolder();
  if (dir === null) return NONE;
  let digest: string;
  try {
    digest = readFileSync(`${bundle}.sha256`, 'utf8').trim().slice(0, 16);
  } catch {
    return NONE; // a bundle built without one (scripts/build-cli.mjs writes it)
  }
  if (!/^[0-9a-f]{16}$/.test(digest)) return NONE;
  const runtime = createHash('sha256')
    .update(`${process.version} ${process.arch} ${process.execArgv.join(' ')}`)
    .digest('hex')
    .slice(0, 8);
  const file = join(dir, `cli-${digest}-${runtime}-${commandOf(argv)}.v8`);
  let data: Buffer | undefined;
  try {
    data = unsealed(readFileSync(file));
  } catch {
    data = undefined; // not made yet
  }
  return {
    data,
    keep(script) {
      if (data !== undefined && script.cachedDataRejected !== true) return;
      let written = false;
      const write = () => {
        if (written) return;
        written = true;
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          writeFileSync(tmp, sealed(script.createCachedData()), { mode: 0o600 });
          renameSync(tmp, file);
          pruneOtherBundles(dir, digest);
        } catch {
          // A full disk or a folder gone: the next run compiles from source and tries again.
          rmSync(tmp, { force: true });
        }
      };
      setTimeout(write, WRITE_AFTER_MS).unref();
      process.once('exit', write);
    },
  };
}
