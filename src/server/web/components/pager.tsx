/**
 * A long list shown a page at a time. A MAP of 20,000 items has 20,000 item rows, as many attempts and twice as many
 * events: drawn whole, the run page took ten seconds to show and as long again to open the MAP's panel. Lists of up
 * to a page are drawn as before, with no pager.
 */
import { useState } from 'preact/hooks';
import { Button } from './common.js';

/** Rows a page: a screenful or two of a task panel's table, far below what makes a browser slow to draw. */
export const PAGE_ROWS = 100;

/**
 * The page shown (0-based) of `total` rows, kept in range as the list grows or a filter shrinks it. `start`: where a
 * list opens; a list that grows at its end (attempts, events) opens on its newest rows and is cut into pages from its
 * end, so its last page is a full one and its first the short one.
 */
export function usePage(total: number, start: 'first' | 'last' = 'first') {
  const last = Math.max(0, Math.ceil(total / PAGE_ROWS) - 1);
  const [chosen, setChosen] = useState<number | null>(null);
  // Until a person picks a page the list opens at its start (or its end, following it as it grows).
  const page = Math.min(chosen ?? (start === 'first' ? 0 : last), last);
  // Where page 0 ends: a whole page from the start, or what is left over once the rest are whole pages from the end.
  const head = start === 'first' || total % PAGE_ROWS === 0 ? PAGE_ROWS : total % PAGE_ROWS;
  const from = page === 0 ? 0 : head + (page - 1) * PAGE_ROWS;
  return {
    page,
    last,
    from,
    to: Math.min(total, page === 0 ? head : from + PAGE_ROWS),
    /** The page row `index` is on. */
    pageOf: (index: number) => (index < head ? 0 : 1 + Math.floor((index - head) / PAGE_ROWS)),
    /** Shows page `p` (null: back to where the list opens, following its end). */
    show: (p: number | null) => setChosen(p === null ? null : Math.max(0, Math.min(p, last))),
  };
}

/** The pages' buttons and where the page shown lies: "101–200 of 20,000". Nothing when the list fits one page. */
export function Pager(props: { what: string; total: number; paging: ReturnType<typeof usePage> }) {
  const { page, last, from, to, show } = props.paging;
  if (props.total <= PAGE_ROWS) return null;
  return (
    <nav class="pager" aria-label={`${props.what} pages`} data-pager={props.what}>
      <Button label="« First" class="link" disabled={page === 0} onClick={() => show(0)} />
      <Button label="‹ Earlier" class="link" disabled={page === 0} onClick={() => show(page - 1)} />
      <span class="pager-at" data-from={from + 1} data-to={to}>
        {(from + 1).toLocaleString('en-US')}–{to.toLocaleString('en-US')} of {props.total.toLocaleString('en-US')}
      </span>
      <Button label="Later ›" class="link" disabled={page === last} onClick={() => show(page + 1)} />
      <Button label="Last »" class="link" disabled={page === last} onClick={() => show(last)} />
    </nav>
  );
}
