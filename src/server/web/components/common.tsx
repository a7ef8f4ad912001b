/** What every page uses: links, badges, JSON, errors, heads, tables, buttons, form fields, and the load and act hooks. */
import type {
  ComponentChildren,
  InputHTMLAttributes,
  PartialInputHTMLAttributes,
  TextareaHTMLAttributes,
} from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { json, sizeText } from '../format.js';
import { JsonText } from './json-text.js';
import { linkClick } from '../router.js';
import { toneOf } from '../status.js';

/** An in-app link: to `href`, or to `run`'s page, or to workflow `def`'s definition (the id its text unless given). */
export function Link(props: {
  href?: string;
  run?: string;
  def?: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
}) {
  const href =
    props.href ??
    (props.run !== undefined
      ? `/runs/${encodeURIComponent(props.run)}`
      : `/definitions/${encodeURIComponent(props.def!)}`);
  return (
    <a href={href} class={props.class} title={props.title} onClick={(e) => linkClick(e, href)}>
      {props.children ?? props.run ?? props.def}
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

/** Any value as indented JSON text (never as markup), under its `title` (an h3) when given. */
export function Json(props: { value: unknown; class?: string; title?: ComponentChildren }) {
  const blobs = blobRefsIn(props.value);
  const pre = (
    <>
      <JsonText text={json(props.value)} class={`json ${props.class ?? ''}`} />
      {blobs.length > 0 && (
        <ul class="blob-links">
          {blobs.map((b) => (
            <li key={b.digest}>
              {/* The body on demand (GET /api/blobs/:digest, the session's sign-in): never loaded into the page. */}
              <a href={`/api/blobs/${b.digest}`} data-blob={b.digest} download>
                blob {sizeText(b.size)} {b.digest.slice(0, 19)}…
              </a>
            </li>
          ))}
        </ul>
      )}
    </>
  );
  return props.title === undefined ? (
    pre
  ) : (
    <>
      <h3>{props.title}</h3>
      {pre}
    </>
  );
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

/** A table: its heads, then a row per item by `row`; none at all: the `empty` note instead (when given). `cols`: its columns' classes (`c-` each). */
export function Table<T>(props: {
  heads: ComponentChildren[];
  cols?: string;
  rows: readonly T[];
  row: (r: T, i: number) => ComponentChildren;
  empty?: ComponentChildren;
  class?: string;
  testid?: string;
}) {
  if (props.rows.length === 0 && props.empty !== undefined) return <Empty>{props.empty}</Empty>;
  return (
    <table class={props.class ? `table ${props.class}` : 'table'} data-testid={props.testid}>
      {props.cols ? (
        <colgroup>
          {props.cols.split(' ').map((c) => (
            <col key={c} class={`c-${c}`} />
          ))}
        </colgroup>
      ) : null}
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

/**
 * Click and Enter alike do `act` on an element that is no button but takes the keyboard as one (a table cell, a
 * timeline event, an SVG node: a button inside would change their layout).
 */
export const clickable = (act: () => void) => ({
  tabIndex: 0,
  onClick: act,
  onKeyDown: (k: KeyboardEvent) => k.key === 'Enter' && act(),
});

/** A page's head: its title (and what `after` it), then on the right Refresh (given `reload`) and the children. */
export function PageHead(props: {
  title: ComponentChildren;
  class?: string;
  after?: ComponentChildren;
  reload?: () => void;
  children?: ComponentChildren;
}) {
  return (
    <div class="page-head">
      <h1 class={props.class}>{props.title}</h1>
      {props.after}
      <div class="grow" />
      {props.reload ? <Button label="Refresh" onClick={props.reload} /> : null}
      {props.children}
    </div>
  );
}

/** A button: `onClick` acts, once the person confirms `confirm` (when given); `submit` submits its form instead. */
export function Button(props: {
  label: ComponentChildren;
  onClick?: () => void;
  confirm?: string;
  submit?: boolean;
  class?: string;
  disabled?: boolean;
}) {
  const { onClick, confirm: question } = props;
  return (
    <button
      type={props.submit ? 'submit' : 'button'}
      class={props.class}
      disabled={props.disabled}
      onClick={onClick && (() => (!question || confirm(question)) && onClick())}
    >
      {props.label}
    </button>
  );
}

/** What `useData` loaded, drawn by `children` once there; until then its error, else Loading. `error`: an action's, shown too. */
export function Loaded<T>(props: {
  data: { data: T | undefined; error: unknown };
  error?: unknown;
  children: (d: T) => ComponentChildren;
}) {
  const { data, error } = props.data;
  return (
    <>
      <ErrorBox error={error ?? props.error} />
      {data !== undefined ? props.children(data) : error ? null : <Loading />}
    </>
  );
}

/** One row of a `dl.facts`: its term and its value (`fact`: the row's data-fact; `dd`: the value's attributes). */
export function Fact(props: {
  term: ComponentChildren;
  fact?: string;
  dd?: Record<string, string>;
  children: ComponentChildren;
}) {
  return (
    <div data-fact={props.fact}>
      <dt>{props.term}</dt>
      <dd {...props.dd}>{props.children}</dd>
    </div>
  );
}

/** A form whose submit stays on the page: `submit` runs instead of the browser's navigation. */
export function Form(props: { class?: string; testid?: string; submit: () => void; children: ComponentChildren }) {
  return (
    <form
      class={props.class}
      data-testid={props.testid}
      onSubmit={(e) => {
        e.preventDefault();
        props.submit();
      }}
    >
      {props.children}
    </form>
  );
}

/** A form's row: its label, the control (children), and the problem the last check found in it. */
export function Field(props: { label: ComponentChildren; problem?: string | undefined; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: its control is the children
    <label class={`row${props.problem ? ' invalid' : ''}`}>
      {props.label}
      {props.children}
      {props.problem ? <span class="bad small">{props.problem}</span> : null}
    </label>
  );
}

type Bound = { value: string; set: (v: string) => void };
/** A text input whose every keystroke goes to `set`. */
export function Input({ set, ...rest }: Omit<PartialInputHTMLAttributes<HTMLInputElement>, 'value' | 'role'> & Bound) {
  return <input {...(rest as InputHTMLAttributes)} onInput={(e) => set(e.currentTarget.value)} />;
}
export function TextArea({ set, ...rest }: Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value'> & Bound) {
  return <textarea {...rest} onInput={(e) => set(e.currentTarget.value)} />;
}

/** A select of `options` (each its own label, or [value, label, title]), `blank` (the value '') first when given. */
export function Select(
  props: Bound & {
    name?: string;
    options: ReadonlyArray<string | number | readonly [string, string, string?]>;
    blank?: string;
  },
) {
  return (
    <select name={props.name} value={props.value} onChange={(e) => props.set(e.currentTarget.value)}>
      {props.blank !== undefined ? <option value="">{props.blank}</option> : null}
      {props.options.map((o) => {
        const [value, label, title] = typeof o === 'object' ? o : [String(o), String(o)];
        return (
          <option key={value} value={value} title={title}>
            {label}
          </option>
        );
      })}
    </select>
  );
}

/** An action's state: `busy` while one runs, the `error` it failed with, or what it `said` (the text it resolved to); `run` starts one. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [said, setSaid] = useState<string | null>(null);
  return {
    busy,
    error,
    setError,
    said,
    run: (f: () => Promise<unknown>) => {
      setBusy(true);
      setError(null);
      setSaid(null);
      f()
        .then((r) => typeof r === 'string' && setSaid(r))
        .catch(setError)
        .finally(() => setBusy(false));
    },
  };
}

/** Loads `load()` whenever `deps` change; `reload` runs it again (after an action). */
export function useData<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    // A failure keeps the data last loaded (a page refreshed in vain still shows it, under the error).
    const settle = (ok: boolean, v: unknown) => {
      if (!live) return;
      if (ok) setData(v as T);
      setError(ok ? null : v);
      setLoading(false);
    };
    load().then(
      (d) => settle(true, d),
      (e: unknown) => settle(false, e),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, loading, reload: () => setN((x) => x + 1) };
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

/** The large payloads a value refers to (`{ "lf:blob": { digest, size } }`, docs/language.md#large-payloads), each once. */
export function blobRefsIn(value: unknown): { digest: string; size: number }[] {
  const out = new Map<string, number>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || depth > 64) return;
    const ref = (v as Record<string, unknown>)['lf:blob'] as { digest?: unknown; size?: unknown } | undefined;
    if (ref && typeof ref.digest === 'string' && typeof ref.size === 'number') {
      out.set(ref.digest, ref.size);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x, depth + 1);
  };
  walk(value, 0);
  return [...out].map(([digest, size]) => ({ digest, size }));
}
