/**
 * A password asked for on the terminal, not echoed: what `LEDGERFLOW_PASSWORD` gives a script, a person at a terminal
 * types. Only when both stdin and stderr are a terminal (a pipe or a CI job gets the clear error instead, never a
 * prompt that waits forever).
 */
import type { ReadStream } from 'node:tty';

/** Whether a prompt can be shown and answered here. */
export function canPrompt(
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): boolean {
  return stdin.isTTY === true && stderr.isTTY === true;
}

/** Asks `question` on stderr and reads one line from the terminal with echo off; Ctrl-C or Ctrl-D gives up (null). */
export function promptPassword(
  question: string,
  stdin = process.stdin as ReadStream,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<string | null> {
  return new Promise((resolve) => {
    let typed = '';
    const wasRaw = stdin.isRaw;
    // Echo off before the question shows: what is typed (or pasted) as soon as it does is never echoed.
    stdin.setRawMode(true);
    stderr.write(question);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (value: string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done(typed);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done(null);
          return;
        } // Ctrl-C, Ctrl-D
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
