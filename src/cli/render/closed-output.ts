/**
 * A reader of stdout or stderr that went away (EPIPE: `ledgerflow history … | head`). A command that only shows
 * something stops quietly there, as Unix tools do (exit 0). One that drives a run (`ledgerflow run f.yaml | head -1`)
 * is a durable job: nobody reading its progress any more is no reason to stop it half-way, so the stream is muted and
 * the run driven to its end (or to where it waits) as if it were still read; its outcome is in `ledgerflow status`.
 */

/** The streams whose reader went away while a run was driven: written to no more. */
const closed = new Set<NodeJS.WritableStream>();
/** The drives under way here, each with what it says when a stream is muted (on the other stream, if still read). */
const driving = new Set<(stream: NodeJS.WritableStream) => void>();

/** Whether `stream`'s reader went away (then nothing more is written to it). */
export function isClosed(stream: NodeJS.WritableStream): boolean {
  return closed.has(stream);
}

/**
 * What an error on stdout or stderr does: EPIPE stops a command that drives no run (`exit(0)`) and mutes the stream of
 * one that does; any other error is thrown (`exit` given by tests).
 */
export function onOutputError(
  stream: NodeJS.WritableStream,
  err: NodeJS.ErrnoException,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  if (err.code !== 'EPIPE') throw err;
  if (driving.size === 0) {
    exit(0);
    return;
  }
  if (closed.has(stream)) return;
  closed.add(stream);
  for (const muted of driving) muted(stream);
}

/**
 * Runs `fn` (a run driven here) with a reader that goes away muting its stream instead of stopping the process;
 * `muted` is told which stream was muted.
 */
export async function outlivingReaders<T>(
  fn: () => Promise<T>,
  muted: (stream: NodeJS.WritableStream) => void = () => {},
): Promise<T> {
  const entry = (stream: NodeJS.WritableStream) => muted(stream);
  driving.add(entry);
  try {
    return await fn();
  } finally {
    driving.delete(entry);
  }
}
