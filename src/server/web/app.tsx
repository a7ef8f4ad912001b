/**
 * The shell: who is signed in (GET /api/session), the navigation, and which page the path names. A 401 from any request
 * shows how to get in: the sign-in page on NATS and on an embedded store with a users file, else the token URL.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, loadSession, onUnauthorized, signOut } from './api.js';
import { Button, Link, NotFound, useTitle } from './components/common.js';
import { match, navigate, useLocation } from './router.js';
import type { Session } from './types.js';
import { RunsPage } from './pages/runs.js';
import { RunPage } from './pages/run.js';
import { StartPage, EmitPage } from './pages/start.js';
import { DefinitionsPage, DefinitionPage } from './pages/definitions.js';
import { LazyEditorPage } from './pages/editor-lazy.js';
import { BreakersPage, SchedulesPage, TriggersPage, WorkersPage } from './pages/fleet.js';
import { MetricsPage } from './pages/metrics.js';
import { CoordinationPage } from './pages/coordination.js';
import { SignInPage, TokenNeeded } from './pages/signin.js';

type Auth =
  | { state: 'loading' }
  | { state: 'in'; session: Session }
  | { state: 'out'; mode: 'embedded' | 'nats'; signIn: boolean };

const NAV: Array<[string, string]> = [
  ['/', 'Runs'],
  ['/definitions', 'Definitions'],
  ['/start', 'Start'],
  ['/emit', 'Emit'],
  ['/schedules', 'Schedules'],
  ['/triggers', 'Triggers'],
  ['/workers', 'Workers'],
  ['/coordination', 'Coordination'],
  ['/breakers', 'Breakers'],
  ['/stats', 'Metrics'],
];

/** Signed out: how to get in, from what the session, or a 401, says of the store. */
const out = (of: { mode?: string | undefined; signIn?: boolean | undefined } | undefined): Auth => ({
  state: 'out',
  mode: of?.mode === 'nats' ? 'nats' : 'embedded',
  signIn: of?.mode === 'nats' || of?.signIn === true,
});

export function App() {
  const { path } = useLocation();
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });

  const refresh = () =>
    loadSession().then(
      (s) => setAuth(s.user === null && s.mode === 'nats' ? out(s) : { state: 'in', session: s }),
      (e: unknown) => setAuth(out(e instanceof ApiError ? e : undefined)),
    );

  useEffect(() => {
    onUnauthorized(() => void refresh());
    void refresh();
  }, []);

  if (auth.state === 'loading') return <div class="boot muted">Loading…</div>;
  if (auth.state === 'out') {
    document.title = auth.signIn ? 'Sign in — ledgerflow' : 'Token needed — ledgerflow';
    return auth.signIn ? (
      <SignInPage
        mode={auth.mode}
        onSignedIn={() =>
          void refresh().then(() => {
            if (path === '/signin') navigate('/');
          })
        }
      />
    ) : (
      <TokenNeeded />
    );
  }
  const session = auth.session;
  return (
    <div class="shell">
      <header class="topbar">
        <Link href="/" class="brand">
          ledgerflow
        </Link>
        <nav>
          {NAV.map(([href, label]) => (
            <Link
              key={href}
              href={href}
              class={(href === '/' ? path === '/' || path.startsWith('/runs') : path.startsWith(href)) ? 'active' : ''}
            >
              {label}
            </Link>
          ))}
        </nav>
        <div class="who">
          {session.mode === 'nats' || session.identity === 'users' ? (
            <>
              <span data-user={session.user ?? ''}>
                signed in as <strong>{session.user}</strong>
                {session.level ? (
                  <span class="muted" data-level={session.level}>
                    {' '}
                    · {session.level}
                  </span>
                ) : null}
              </span>
              <Button label="Sign out" class="link" onClick={() => void signOut().then(() => setAuth(out(session)))} />
            </>
          ) : (
            <span
              class="muted shared-token"
              data-testid="shared-token"
              title="Anyone holding this dashboard's token acts as any name they type (approvals included). Add users (ledgerflow users add, docs/users.md) to have people sign in as themselves."
            >
              embedded store · shared token: anyone with it acts as any name
            </span>
          )}
        </div>
      </header>
      <main class="page">
        {session.read?.allowed === false ? (
          <ReadForbidden read={session.read} />
        ) : (
          <Page path={path} session={session} />
        )}
      </main>
    </div>
  );
}

function Page(props: { path: string; session: Session }) {
  const p = props.path;
  let m: Record<string, string> | null;
  // A run's page names itself (its id, and the event in time travel); every other page by what it is.
  if ((m = match('/runs/:id', p))) return <RunPage runId={m.id!} session={props.session} />;
  const titled = (title: string, page: preact.JSX.Element) => (
    <>
      <Title text={title} />
      {page}
    </>
  );
  if (p === '/' || p === '/runs' || p === '/signin') return titled('Runs', <RunsPage />);
  if (p === '/start') return titled('Start a run', <StartPage />);
  if ((m = match('/start/:workflow', p))) return titled(`Start ${m.workflow!}`, <StartPage workflow={m.workflow!} />);
  if (p === '/emit') return titled('Emit an event', <EmitPage />);
  if (p === '/definitions') return titled('Definitions', <DefinitionsPage />);
  if (p === '/definitions/new') return titled('New definition', <LazyEditorPage />);
  if ((m = match('/definitions/:id/edit', p))) return titled(`Edit ${m.id!}`, <LazyEditorPage key={m.id} id={m.id!} />);
  if ((m = match('/definitions/:id', p))) return titled(`Definition ${m.id!}`, <DefinitionPage id={m.id!} />);
  if (p === '/schedules') return titled('Schedules', <SchedulesPage />);
  if (p === '/triggers') return titled('Triggers', <TriggersPage />);
  if (p === '/workers') return titled('Workers', <WorkersPage />);
  if (p === '/coordination') return titled('Coordination', <CoordinationPage />);
  if (p === '/breakers') return titled('Circuit breakers', <BreakersPage />);
  // Not /metrics: that path is the Prometheus endpoint.
  if (p === '/stats') return titled('Metrics', <MetricsPage />);
  return titled('Not found', <NotFound what={`No page at ${p}.`} />);
}

function Title(props: { text: string }) {
  useTitle(props.text);
  return null;
}

/** Signed in, but nats.conf does not let this user read the log: every read would be a 403, so no page asks. */
function ReadForbidden(props: { read: NonNullable<Session['read']> }) {
  return (
    <div class="card read-forbidden" data-testid="read-forbidden">
      <h1>Not allowed to read runs</h1>
      <p>{props.read.message}</p>
      {props.read.subject ? (
        <p class="muted">
          Permission to add to this user's publish permissions: <code>{props.read.subject}</code>
        </p>
      ) : null}
    </div>
  );
}
