/** What a command writes to: stdout and stderr, a line at a time (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A value as `--json` prints it. */
export const json = (v: unknown): string => JSON.stringify(v, null, 2);
