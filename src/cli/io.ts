/** What a command writes to: stdout and stderr, a line at a time (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}
