/**
 * A COMMAND task's progress (docs/handlers.md#progress-from-a-command): the program writes lines on file descriptor 3
 * (its number in LEDGERFLOW_PROGRESS_FD), each a fraction and an optional message (`0.4 scanned 400 of 1000`, `40%
 * …`) or a JSON object (`{"fraction": 0.4, "message": "…"}`). A line that is none of these is ignored; so is a program
 * that never writes there. The descriptor is a pipe, read as the program writes.
 */
import type { Readable } from 'node:stream';
import { parseProgressLine } from '../progress/index.js';

/** The descriptor a program writes its progress lines on. */
export const PROGRESS_FD = 3;
/** Longest line read (bytes of text); the rest of a longer one is dropped. */
const MAX_LINE = 4096;

export function readProgressLines(
  stream: Readable | null | undefined,
  report: ((fraction: number, message?: string) => void) | undefined,
): void {
  if (!stream) return;
  // Read even without a reporter: a program writing progress must never block on a full pipe.
  let partial = '';
  stream.on('error', () => {});
  stream.on('data', (c: Buffer) => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = (lines.pop() ?? '').slice(0, MAX_LINE);
    if (!report) return;
    for (const line of lines) {
      const p = parseProgressLine(line.slice(0, MAX_LINE));
      if (p) report(p.fraction, p.message);
    }
  });
  stream.on('end', () => {
    const p = report && parseProgressLine(partial);
    if (p) report!(p.fraction, p.message);
  });
}
