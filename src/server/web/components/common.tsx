/** Small pieces every page uses: links, status badges, JSON blocks, errors, loading. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { json } from '../format.js';
import { linkClick } from '../router.js';
import { toneOf } from '../status.js';

export function Link(props: { href: string; children: ComponentChildren; class?: string; title?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={(e) => linkClick(e, props.href)}>
      {props.children}
    </a>
  );
}

export function Status(props: { status: string | undefined }) {
  return (
    <span class={`badge tone-${toneOf(props.status)}`} data-status={props.status}>
      {props.status ?? '—'}
    </span>
  );
}

/** Any value as indented JSON text (never as markup). */
export function Json(props: { value: unknown; class?: string }) {
  return <pre class={`json ${props.class ?? ''}`}>{json(props.value)}</pre>;
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  const e = props.error;
  const text =
    e instanceof ApiError
      ? `${e.message}${e.field ? ` (field ${e.field})` : ''}`
      : e instanceof Error
        ? e.message
        : String(e);
  return (
    <div class="error-box" role="alert">
      {e instanceof ApiError ? (
        <strong>
          {e.status} {e.code}:{' '}
        </strong>
      ) : null}
      {text}
    </div>
  );
}

/** A table: its heads, then a row per item by `row`; none at all: the `empty` note instead (when given). */
export function Table<T>(props: {
  heads: string[];
  rows: readonly T[];
  row: (r: T, i: number) => ComponentChildren;
  empty?: ComponentChildren;
  class?: string;
  testid?: string;
}) {
  if (props.rows.length === 0 && props.empty !== undefined) return <Empty>{props.empty}</Empty>;
  return (
    <table class={props.class ? `table ${props.class}` : 'table'} data-testid={props.testid}>
      <thead>
        <tr>
          {props.heads.map((h, i) => (
            <th key={i}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>{props.rows.map((r, i) => props.row(r, i))}</tbody>
    </table>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      {props.title !== undefined || props.actions ? (
        <header class="card-head">
          <h2>{props.title}</h2>
          <div class="card-actions">{props.actions}</div>
        </header>
      ) : null}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

/** An action's state: `busy` while one runs and the `error` it failed with; `run` starts one (clearing the error). */
export function useAction(): {
  busy: boolean;
  error: unknown;
  setError: (e: unknown) => void;
  run: (f: () => Promise<unknown>) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return {
    busy,
    error,
    setError,
    run: (f) => {
      setBusy(true);
      setError(null);
      f()
        .catch(setError)
        .finally(() => setBusy(false));
    },
  };
}

/** Loads `load()` whenever `deps` change; `reload` runs it again (after an action). */
export function useData<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void; set: (v: T) => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
          setLoading(false);
        }
      },
      (e: unknown) => {
        if (live) {
          setError(e);
          setLoading(false);
        }
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, loading, reload: () => setN((x) => x + 1), set: setData };
}

export function Loading() {
  return <div class="muted loading">Loading…</div>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty muted">{props.children}</div>;
}

/** The tab's title names the page ("Runs — ledgerflow", a run's id…), so tabs and history can be told apart. */
export function useTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} — ledgerflow` : 'ledgerflow';
  }, [title]);
}

/** A page, or a run, that is not there (the router's fallback and a run page's 404). */
export function NotFound(props: { what: string }) {
  return (
    <div class="not-found">
      <h1>Not found</h1>
      <p>{props.what}</p>
      <Link href="/">Back to the runs</Link>
    </div>
  );
}
