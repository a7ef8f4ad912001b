/**
 * `ledgerflow bridge --inbox DIR` (docs/bridge.md#an-inbox-folder): every file dropped in DIR is taken once and its
 * lines answered into `done/` or `failed/`. Whoever can drop a file acts as the bridge's user, so what is read and
 * written here is read and written as a hostile dropper would have it: a dropped link (to a users file, to /etc/shadow)
 * is refused unread, never followed; a result is created exclusively and moved in, so a link planted under its name or
 * its `.part` is replaced or removed, never written through; and every answer is written with its control characters
 * escaped (inert), as it is printed.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { LedgerflowError, UsageError, errorMessage } from '../../errors/index.js';
import { inert, inertJson } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import type { Io } from '../render/io.js';

/** One line's answer: the text printed (or written to a result file) and the same as JSON. */
export interface Answer {
  ok: boolean;
  text: string;
  json: Record<string, unknown>;
  /** Refused for who acts (a `permission` refusal): the command the line stands for would exit 2. */
  refused?: boolean;
}

/** What answers a file's lines: the bridge, acting as the inbox's identity. */
export interface LineAnswerer {
  answer(text: string, lineNo: number, callerId?: string): Promise<Answer | null>;
  settle(): Promise<void>;
}

/** An answer as it is printed and written back: escaped, so a line holding `\x1b[…` or U+009B answers as those characters. */
export function shownAnswer(a: Answer, json: boolean | undefined): string {
  return json ? inertJson(a.json) : inert(a.text);
}

/** How often an inbox is looked at besides its watch (which can miss a change). */
const INBOX_POLL_MS = 1000;
/** A file changed more recently than this may still be being written: it is left for a later look. */
const INBOX_SETTLE_MS = 300;
/** The folders the bridge keeps inside the inbox. */
const FOLDERS = ['.processing', 'done', 'failed'] as const;

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/** `path` must be a folder itself, not a link to one elsewhere (the bridge would write its results there). */
function realFolder(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st)
    throw new UsageError(
      `${path} is gone: the bridge keeps its files there; restart it`,
      { path },
      'LF_BRIDGE_INBOX_FILE',
    );
  if (!st.isDirectory())
    throw new UsageError(
      `${path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}: the bridge writes only into a folder of its own there (remove it; the bridge makes the folder)`,
      { path },
      'LF_BRIDGE_INBOX_FILE',
    );
}

/** The inbox the operator named (a link they made to it is theirs to make: followed) must be a folder. */
export function checkInbox(dir: string): void {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--inbox ${dir} is not a folder: make it, then drop files of bridge lines in it`, {
      option: '--inbox',
      dir,
    });
}

/** The inbox and its folders, made when missing, each a real folder (not a link to one elsewhere). */
function prepareInbox(dir: string): void {
  checkInbox(dir);
  for (const d of FOLDERS) {
    const path = join(dir, d);
    try {
      mkdirSync(path);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
    }
    realFolder(path);
  }
}

/**
 * With a users file, whoever can drop a file in the inbox acts as the bridge's signed-in user: the folder must be the
 * bridge's account's own, written by nobody else, or that user's authority is lent to everyone who can.
 */
export function refuseOpenInbox(dir: string, user: string): void {
  const st = statSync(dir);
  const uid = process.getuid?.();
  const why =
    uid !== undefined && st.uid !== uid
      ? `belongs to uid ${st.uid}, not to the account running the bridge (uid ${uid})`
      : (st.mode & 0o022) !== 0
        ? `can be written by its ${(st.mode & 0o002) !== 0 ? 'every user' : 'group'} (mode ${(st.mode & 0o777).toString(8)})`
        : null;
  if (why)
    throw new LedgerflowError(
      'LF_BRIDGE_INBOX_OPEN',
      `--inbox ${dir} ${why}: whoever can drop a file there would act as ${user}; use a folder only this account writes (\`chmod go-w\`)`,
      { dir, user },
    );
}

/**
 * An inbox: every file dropped in the folder (not a dot file), once it has not changed for INBOX_SETTLE_MS, is taken
 * once: moved to `.processing/`, its lines answered into `<name>.result`, then the file and its result moved to `done/`
 * (every line ok) or `failed/`. A `@workflow` line starts its run under an id made of the file's content and the line's
 * number, so a file taken again after a crash starts nothing twice. Until SIGINT or SIGTERM.
 */
export async function watchInbox(io: Io, bridge: LineAnswerer, dir: string, opts: { json?: boolean }): Promise<number> {
  prepareInbox(dir);
  const taking = join(dir, '.processing');
  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const watcher = watch(dir, () => wake());
  io.err(`bridge: watching ${inert(dir)} for files of lines (answers in done/ and failed/); Ctrl-C stops`);
  const take = async (claimed: string, name: string) => {
    try {
      await takeFile(bridge, dir, claimed, name, opts, io);
    } catch (err) {
      // One file's trouble (its result's folder replaced by a link, a disk full) stops that file, not the inbox: said, and left in .processing/ for the next start.
      io.err(`bridge: ${inert(name)}: not answered: ${inert(errorMessage(err))}; it stays in .processing/`);
    }
  };
  try {
    // Files a bridge killed mid-file left behind are taken first (their @workflow lines start nothing twice).
    for (const name of readdirSync(taking)) await take(join(taking, name), name);
    while (!stopped) {
      let settling = false;
      for (const name of readdirSync(dir).sort()) {
        if (stopped) break;
        const path = join(dir, name);
        // lstat: a link is judged as the link it is (takeFile refuses it unread), never as what it points to.
        const st = lstatSync(path, { throwIfNoEntry: false });
        // The bridge's own done/ and failed/ are never a dropped file, even swapped for a link (realFolder refuses that link).
        if (name.startsWith('.') || !st || st.isDirectory() || (FOLDERS as readonly string[]).includes(name)) continue;
        if (Date.now() - st.mtimeMs < INBOX_SETTLE_MS) {
          settling = true;
          continue;
        }
        const claimed = join(taking, name);
        try {
          realFolder(taking);
          renameSync(path, claimed);
        } catch (err) {
          if (code(err) === 'ENOENT') continue; // another bridge took it first
          io.err(`bridge: ${inert(name)}: not taken: ${inert(errorMessage(err))}`);
          continue;
        }
        await take(claimed, name);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, settling ? INBOX_SETTLE_MS : INBOX_POLL_MS);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    watcher.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  await bridge.settle();
  return EXIT.ok;
}

/** A dropped file's text, or why it is refused unread: a link is never followed, a FIFO never waited on. */
function readDropped(path: string, name: string): { text: string } | { refused: string } {
  let fd: number;
  try {
    // O_NOFOLLOW: a link swapped in after the lstat is refused here, not read; O_NONBLOCK: a FIFO does not hold the bridge.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (code(err) === 'ELOOP' || code(err) === 'EMLINK')
      return {
        refused: `${name} is a symbolic link, which the bridge does not follow (its target is not a file dropped here)`,
      };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { refused: `${name} is not a regular file (a FIFO, a device or a socket)` };
    // A hard link is another name of a file kept elsewhere (a users file): dropped files are moved in, never linked.
    if (st.nlink > 1) return { refused: `${name} has other names (a hard link to a file kept elsewhere)` };
    return { text: readFileSync(fd, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

async function takeFile(
  bridge: LineAnswerer,
  dir: string,
  claimed: string,
  name: string,
  opts: { json?: boolean },
  io: Io,
): Promise<void> {
  const read = readDropped(claimed, name);
  const answers: string[] = [];
  let failed = false;
  if ('refused' in read) {
    const message = `${read.refused}: nothing of it was read; drop the file itself (written elsewhere, then moved in)`;
    failed = true;
    answers.push(
      shownAnswer(
        { ok: false, text: `error: ${message}`, json: { ok: false, error: { code: 'LF_BRIDGE_INBOX_FILE', message } } },
        opts.json,
      ),
    );
  } else {
    const digest = createHash('sha256').update(name).update('\0').update(read.text).digest('hex').slice(0, 20);
    const lines = read.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const a = await bridge.answer(lines[i]!, i + 1, `bridge-${digest}-${i + 1}`);
      if (!a) continue;
      failed ||= !a.ok;
      answers.push(shownAnswer(a, opts.json));
    }
  }
  const to = join(dir, failed ? 'failed' : 'done');
  writeResult(to, `${name}.result`, answers.length ? `${answers.join('\n')}\n` : '');
  // rename moves a link as the link it is, and replaces (never writes through) whatever is planted under its name.
  renameSync(claimed, join(to, name));
  io.err(
    `bridge: ${inert(name)}: ${answers.length} line${answers.length === 1 ? '' : 's'} answered → ${failed ? 'failed' : 'done'}/${inert(name)}.result`,
  );
}

/**
 * Whole or not at all, as the file it answers: written beside under `.part`, then moved in (a reader never sees half of
 * it). The `.part` is created exclusively without following a link; one found there (left by a bridge killed mid-write,
 * or planted as a link to a file elsewhere) is removed, which removes a link and never its target.
 */
function writeResult(folder: string, file: string, text: string): void {
  realFolder(folder);
  const result = join(folder, file);
  const part = `${result}.part`;
  const create = () =>
    openSync(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  let fd: number;
  try {
    fd = create();
  } catch (err) {
    if (code(err) !== 'EEXIST') throw err;
    unlinkSync(part);
    fd = create();
  }
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(part, result);
}
