/**
 * The page's only door to the server: JSON in and out, the CSRF header on every action, and the API's own error message
 * kept for the page to show.
 */
import type { ApiErrorBody, Session } from './types.js';

/** A failed request: the API's `{ error: { code, message, field? } }` and the HTTP status. */
export class ApiError extends Error {
  /** `mode`: on a 401, the server's store; `signIn`: a name and password open a session (NATS, or the embedded users file), else the token URL. */
  /** `body`: the whole answer (the editor reads a draft's `issues` from its 400). */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly mode?: 'embedded' | 'nats',
    readonly signIn?: boolean,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (status: 401) => void;
let unauthorized: Listener | null = null;
let csrf: string | undefined;

/** Called once by the app: a 401 anywhere sends the page to the sign-in (or "open the token URL") screen. */
export function onUnauthorized(listener: Listener): void {
  unauthorized = listener;
}

export function setCsrf(token: string | undefined): void {
  csrf = token;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-lf-csrf'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/session')) unauthorized?.(401);
    const body = json as Partial<ApiErrorBody> | undefined;
    const err = body?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? (text.slice(0, 300) || res.statusText),
      err?.field,
      body?.mode,
      body?.signIn,
      json,
    );
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** The CSRF token of a session, remembered for later actions. */
const remember = (s: Session) => {
  setCsrf(s.csrf);
  return s;
};
/** The session (who is signed in, the CSRF token). */
export const loadSession = () => api.get<Session>('/api/session').then(remember);
export const signIn = (user: string, password: string) =>
  api.post<Session>('/api/session', { user, password }).then(remember);

export async function signOut(): Promise<void> {
  await api.del('/api/session');
  setCsrf(undefined);
}

/** A query string from the set fields only (empty strings and undefined left out). */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Follows a server-sent-events stream, calling `on[event]` with each message's parsed data; EventSource reconnects by
 * itself. Returns the close function.
 */
export function stream(path: string, on: Record<string, (data: unknown) => void>): () => void {
  const es = new EventSource(path, { withCredentials: true });
  for (const [name, fn] of Object.entries(on)) {
    es.addEventListener(name, (e) => {
      try {
        fn(JSON.parse((e as MessageEvent<string>).data));
      } catch (err) {
        console.error(`ledgerflow: bad ${name} message on ${path}`, err);
      }
    });
  }
  return () => es.close();
}
