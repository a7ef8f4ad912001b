/**
 * `ledgerflow doctor --routes host:port,…`: whether each cluster route port refuses a server without credentials (a
 * cluster without route authorization took any server that reached a route port, and trusted it). A route port greets
 * with INFO, as a client port does; `auth_required` there says it wants credentials (nats-cluster.conf's
 * `authorization`), and `tls_required` that it speaks TLS. Nothing is sent to it.
 */
import { connect as tcpConnect } from 'node:net';

export interface RouteCheck {
  route: string;
  /** null: no INFO read (unreachable, or not a NATS route port: `error` says). */
  authRequired: boolean | null;
  tlsRequired: boolean | null;
  cluster?: string;
  error?: string;
}

/** `host:port` (IPv6 in brackets) of each route, as given. */
export function parseRoutes(text: string): { host: string; port: number; route: string }[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((route) => {
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(route);
      const port = m ? Number(m[3]) : NaN;
      if (!m || port < 1 || port > 65535) throw new Error(`--routes: "${route}" is not host:port (e.g. 10.0.0.5:6222)`);
      return { host: m[1] ?? m[2]!, port, route };
    });
}

/** Reads each route's INFO (within `timeoutMs`) and says what it asks of a server that connects. */
export function checkRoutes(
  routes: { host: string; port: number; route: string }[],
  timeoutMs = 3000,
): Promise<RouteCheck[]> {
  return Promise.all(routes.map((r) => checkRoute(r, timeoutMs)));
}

function checkRoute(r: { host: string; port: number; route: string }, timeoutMs: number): Promise<RouteCheck> {
  return new Promise((resolve) => {
    const sock = tcpConnect(r.port, r.host);
    let buf = '';
    const done = (check: Omit<RouteCheck, 'route'>) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ route: r.route, ...check });
    };
    const timer = setTimeout(
      () => done({ authRequired: null, tlsRequired: null, error: `no INFO within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('error', (err) => done({ authRequired: null, tlsRequired: null, error: err.message }));
    sock.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n');
      if (end < 0 && buf.length < 64 * 1024) return;
      const line = buf.slice(0, end < 0 ? buf.length : end);
      if (!line.startsWith('INFO '))
        return done({ authRequired: null, tlsRequired: null, error: 'not a NATS port (no INFO)' });
      try {
        const info = JSON.parse(line.slice(5)) as {
          auth_required?: unknown;
          tls_required?: unknown;
          cluster?: unknown;
        };
        done({
          authRequired: info.auth_required === true,
          tlsRequired: info.tls_required === true,
          ...(typeof info.cluster === 'string' ? { cluster: info.cluster } : {}),
        });
      } catch {
        done({ authRequired: null, tlsRequired: null, error: 'its INFO is not JSON' });
      }
    });
  });
}

/** What doctor says of the checks: warnings (exit 1) and notes. */
export function routeFindings(checks: RouteCheck[]): { warnings: string[]; notes: string[] } {
  const warnings: string[] = [];
  const notes: string[] = [];
  for (const c of checks) {
    if (c.authRequired === null) warnings.push(`route ${c.route}: could not be checked (${c.error})`);
    else if (!c.authRequired)
      warnings.push(
        `route ${c.route}: takes a server without credentials (no cluster authorization): any server that reaches this port joins the cluster and is trusted with everything; give the routes a user and password (docs/nats.md#routes-credentials-and-tls)`,
      );
    else if (!c.tlsRequired)
      notes.push(
        `route ${c.route}: asks for credentials, without TLS (the route password crosses the network in the clear: use TLS between hosts)`,
      );
  }
  return { warnings, notes };
}
