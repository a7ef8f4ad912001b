/**
 * Getting in: a name and password (NATS: checked by the server connecting as that user; the embedded store: the users
 * file's hash), or the embedded store's token URL.
 */
import { useState } from 'preact/hooks';
import { signIn } from '../api.js';
import { Button, ErrorBox, Form, Input, useAction } from '../components/common.js';

export function SignInPage(props: { mode: 'embedded' | 'nats'; onSignedIn: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();
  return (
    <div class="signin">
      <Form class="card signin-card" submit={() => run(() => signIn(user, password).then(props.onSignedIn))}>
        <h1>ledgerflow</h1>
        <p class="muted">
          {props.mode === 'nats'
            ? "Sign in with your NATS user. What you may do is what the server's permissions give that user."
            : 'Sign in with your name and password from the users file. What you may do is what your level (L0–L3) allows.'}
        </p>
        <label>
          User
          <Input name="user" autocomplete="username" value={user} set={setUser} required />
        </label>
        <label>
          Password
          <Input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            set={setPassword}
            required
          />
        </label>
        <ErrorBox error={error} />
        <Button label={busy ? 'Signing in…' : 'Sign in'} class="primary" submit disabled={busy} />
      </Form>
    </div>
  );
}

export function TokenNeeded() {
  return (
    <div class="signin">
      <div class="card signin-card" data-testid="token-needed">
        <h1>ledgerflow</h1>
        <p>
          <strong>Not signed in.</strong> Open the URL with the token <code>ledgerflow ui</code> printed when it started
          (<code>http://127.0.0.1:&lt;port&gt;/?token=…</code>), or, when it was started with named users (
          <code>--users</code>), the URL with your own token.
        </p>
        <p class="muted">
          The token is set as a cookie for this browser; restart <code>ledgerflow ui</code> to get a new one.
        </p>
      </div>
    </div>
  );
}
