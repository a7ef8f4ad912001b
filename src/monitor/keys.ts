/**
 * The monitor's keys (`[R]efresh [D]etails [P]ause [K]ill [Q]uit`), as a pure state machine: a key and the state in,
 * the new state and what to do out. Pause and kill ask first (`y` confirms, anything else cancels); Tab / ↓ / j select
 * the next run, Shift-Tab / ↑ the previous, 1–9 one by its place. The loop (live.ts) does the actions.
 */
export interface KeyState {
  selected: number;
  details: boolean;
  /** Asking to confirm this, for this run. */
  confirm: { action: 'pause' | 'cancel'; runId: string } | null;
}

type KeyAction =
  | { kind: 'none' }
  | { kind: 'refresh' }
  | { kind: 'quit' }
  | { kind: 'pause' | 'cancel'; runId: string };

export const INITIAL_KEYS: KeyState = { selected: 0, details: false, confirm: null };

/** The prompt a state shows (null: none). */
export function promptOf(s: KeyState): string | null {
  if (!s.confirm) return null;
  return `${s.confirm.action === 'pause' ? 'Pause' : 'Kill (cancel)'} run ${s.confirm.runId}? [y/N]`;
}

/** One key (as raw-mode stdin gives it: a character, or an escape sequence for arrows, Shift-Tab), run ids as shown. */
export function onKey(s: KeyState, key: string, runs: readonly string[]): { state: KeyState; action: KeyAction } {
  const none = (state: KeyState) => ({ state, action: { kind: 'none' } as KeyAction });
  if (key === '\u0003') return { state: s, action: { kind: 'quit' } }; // Ctrl-C, always
  if (s.confirm) {
    const asked = s.confirm;
    const state = { ...s, confirm: null };
    return key === 'y' || key === 'Y' ? { state, action: { kind: asked.action, runId: asked.runId } } : none(state);
  }
  const n = runs.length;
  const selected = n === 0 ? 0 : Math.min(s.selected, n - 1);
  switch (key) {
    case 'q':
    case 'Q':
      return { state: s, action: { kind: 'quit' } };
    case 'r':
    case 'R':
      return { state: s, action: { kind: 'refresh' } };
    case 'd':
    case 'D':
      return none({ ...s, selected, details: !s.details });
    case 'p':
    case 'P':
      return n === 0 ? none(s) : none({ ...s, selected, confirm: { action: 'pause', runId: runs[selected]! } });
    case 'k':
    case 'K':
      return n === 0 ? none(s) : none({ ...s, selected, confirm: { action: 'cancel', runId: runs[selected]! } });
    case '\t':
    case '\u001b[B':
    case 'j':
      return none({ ...s, selected: n === 0 ? 0 : (selected + 1) % n });
    case '\u001b[Z':
    case '\u001b[A':
      return none({ ...s, selected: n === 0 ? 0 : (selected - 1 + n) % n });
    default:
      if (/^[1-9]$/.test(key) && Number(key) <= n) return none({ ...s, selected: Number(key) - 1 });
      return none(s);
  }
}

/**
 * The keys in one chunk of raw input: a terminal may hand several at once (`py` typed quickly, a paste), and an arrow
 * or Shift-Tab is one escape sequence, not three keys.
 */
export function splitKeys(chunk: string): string[] {
  return chunk.match(/\u001b\[[0-9;]*[A-Za-z~]|\u001b.|[\s\S]/gu) ?? [];
}
