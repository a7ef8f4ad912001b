/**
 * The shell: who is signed in (GET /api/session), the navigation, and which
 * page the path names. A 401 from any request shows how to get in: the sign-in
 * page on NATS, the token URL on the embedded store.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, loadSession, onUnauthorized, signOut } from './api.js';
import { Link } from './components/common.js';
import { match, navigate, useLocation } from './router.js';
import type { Session } from './types.js';
import { RunsPage } from './pages/runs.js';
import { RunPage } from './pages/run.js';
import { StartPage, EmitPage } from './pages/start.js';
import { DefinitionsPage, DefinitionPage } from './pages/definitions.js';
import { SchedulesPage, TriggersPage, WorkersPage } from './pages/fleet.js';
import { MetricsPage } from './pages/metrics.js';
import { SignInPage, TokenNeeded } from './pages/signin.js';

type Auth = { state: 'loading' } | { state: 'in'; session: Session } | { state: 'out'; mode: 'embedded' | 'nats' };

const NAV: Array<[string, string]> = [
  ['/', 'Runs'], ['/definitions', 'Definitions'], ['/start', 'Start'], ['/emit', 'Emit'],
  ['/schedules', 'Schedules'], ['/triggers', 'Triggers'], ['/workers', 'Workers'], ['/stats', 'Metrics'],
];

export function App() {
  const { path } = useLocation();
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });

  const refresh = () =>
    loadSession().then(
      (s) => setAuth(s.user === null && s.mode === 'nats' ? { state: 'out', mode: 'nats' } : { state: 'in', session: s }),
      (e: unknown) => {
        setAuth({ state: 'out', mode: e instanceof ApiError && e.mode === 'nats' ? 'nats' : 'embedded' });
      },
    );

  useEffect(() => {
    onUnauthorized(() => void refresh());
    void refresh();
  }, []);

  if (auth.state === 'loading') return <div class="boot muted">Loading…</div>;
  if (auth.state === 'out') {
    return auth.mode === 'nats' ? <SignInPage onSignedIn={() => void refresh().then(() => { if (path === '/signin') navigate('/'); })} /> : <TokenNeeded />;
  }
  const session = auth.session;
  return (
    <div class="shell">
      <header class="topbar">
        <Link href="/" class="brand">ledgerflow</Link>
        <nav>
          {NAV.map(([href, label]) => (
            <Link key={href} href={href} class={(href === '/' ? path === '/' || path.startsWith('/runs') : path.startsWith(href)) ? 'active' : ''}>{label}</Link>
          ))}
        </nav>
        <div class="who">
          {session.mode === 'nats' ? (
            <>
              <span data-user={session.user ?? ''}>signed in as <strong>{session.user}</strong></span>
              <button class="link" onClick={() => void signOut().then(() => setAuth({ state: 'out', mode: 'nats' }))}>Sign out</button>
            </>
          ) : <span class="muted">embedded store</span>}
        </div>
      </header>
      <main class="page">
        {session.read?.allowed === false ? <ReadForbidden read={session.read} /> : <Page path={path} session={session} />}
      </main>
    </div>
  );
}

function Page(props: { path: string; session: Session }) {
  const p = props.path;
  let m: Record<string, string> | null;
  if (p === '/' || p === '/runs' || p === '/signin') return <RunsPage />;
  if ((m = match('/runs/:id', p))) return <RunPage runId={m.id!} session={props.session} />;
  if (p === '/start') return <StartPage />;
  if ((m = match('/start/:workflow', p))) return <StartPage workflow={m.workflow!} />;
  if (p === '/emit') return <EmitPage />;
  if (p === '/definitions') return <DefinitionsPage />;
  if ((m = match('/definitions/:id', p))) return <DefinitionPage id={m.id!} />;
  if (p === '/schedules') return <SchedulesPage />;
  if (p === '/triggers') return <TriggersPage />;
  if (p === '/workers') return <WorkersPage />;
  // Not /metrics: that path is the Prometheus endpoint.
  if (p === '/stats') return <MetricsPage />;
  return <NotFound what={`No page at ${p}.`} />;
}

/** Signed in, but nats.conf does not let this user read the log: every read would be a 403, so no page asks. */
function ReadForbidden(props: { read: NonNullable<Session['read']> }) {
  return (
    <div class="card read-forbidden" data-testid="read-forbidden">
      <h1>Not allowed to read runs</h1>
      <p>{props.read.message}</p>
      {props.read.subject ? <p class="muted">Permission to add to this user's publish permissions: <code>{props.read.subject}</code></p> : null}
    </div>
  );
}

export function NotFound(props: { what: string }) {
  return (
    <div class="not-found">
      <h1>Not found</h1>
      <p>{props.what}</p>
      <Link href="/">Back to the runs</Link>
    </div>
  );
}
