/**
 * The `ledgerflow` command: the command table (program.ts) parses the command line and runs the command; what it throws
 * maps to an exit code in one place (exit.ts); the stores it opened are closed; the process exits. Built as a CommonJS
 * bundle that bin/ledgerflow.js runs through launch.ts, with a code cache.
 */
import { program } from './program.js';
import { closeStores } from './flags/store.js';
import { EXIT, exitCodeForThrown } from './render/exit.js';
import type { Io } from './render/io.js';
import { isClosed, onOutputError } from './render/closed-output.js';
import { protectTail } from './flags/tail.js';
import { offerLibrary } from './offer-library.js';
import { useNativeDigest } from '../executor/native-digest.js';

// A reader that went away (`ledgerflow history … | head`) is not an error: stop quietly, as Unix tools do; a command
// driving a run goes on with that stream muted (`ledgerflow run f.yaml | head -1`: closed-output.ts).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => onOutputError(stream, err));
}

offerLibrary();
// Every command that hashes (a replay, a deploy, a start) does it with Node's sha256, executor or not.
useNativeDigest();

const write = (stream: NodeJS.WriteStream, text: string) => {
  if (!isClosed(stream)) stream.write(`${text}\n`);
};
const io: Io = { out: (t) => write(process.stdout, t), err: (t) => write(process.stderr, t) };

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    const p = program(io, (c) => {
      code = c;
    });
    // The tail of run/start goes to the command untouched: only it can tell options from inputs (tail.ts).
    await p.parseAsync(protectTail(argv, p), { from: 'user' });
    return code;
  } catch (thrown) {
    return exitCodeForThrown(thrown, io, argv.includes('--json'));
  } finally {
    await closeStores();
  }
}

// Not a top-level await: this module is the entry of a CommonJS bundle (scripts/build-cli.mjs).
void main(process.argv.slice(2)).then(async (code) => {
  // Exit explicitly: a handler that ignores its AbortSignal must not keep a settled run's process alive. But only once
  // both streams have handed over what was written: to a pipe, what passes its 64 KiB buffer is still queued here, and
  // exiting at once cut `validate`'s errors (`2>&1 | less`) at 65,536 bytes.
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
});

/** Resolves once everything written to the stream before has been handed to the system. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (isClosed(stream)) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}
