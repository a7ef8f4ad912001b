/**
 * Which names the dashboard answers to. A page on another site must not reach it: not by DNS rebinding (a name of the
 * attacker's that resolves to 127.0.0.1, so the browser treats the dashboard as the attacker's origin — the request's
 * `Host` gives it away) and not by a cross-site request (its `Origin` names the other site). Allowed: the addresses it
 * listens on (for a loopback address also `localhost`, 127.0.0.1 and [::1]; for 0.0.0.0 or :: every address of this
 * machine and its hostname), on the port it listens on, and the names given with `--allowed-host` (a proxy's: `name` on
 * any port, or `name:port`). A refused Host is a 421, a refused Origin a 403, both saying which names are allowed.
 */
import { hostname, networkInterfaces } from 'node:os';
import type { Context, MiddlewareHandler } from 'hono';
import { UsageError } from '../errors/index.js';
import { ApiError } from './errors.js';

/** A name the dashboard answers to; `port` null: any port (an `--allowed-host` given without one). */
export interface AllowedHost {
  name: string;
  port: number | null;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
/** A host as a Host header writes it: lower case, an IPv6 address in brackets. */
const normal = (name: string) => {
  const n = name.toLowerCase();
  return n.includes(':') && !n.startsWith('[') ? `[${n}]` : n;
};

/** The names listening on `host`:`port` answers to. */
export function listenHosts(host: string, port: number): AllowedHost[] {
  const h = normal(host);
  let names: string[];
  if (h === '0.0.0.0' || h === '[::]' || h === '') {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined)
      .map((a) => normal(a.address.replace(/%.*$/, '')));
    names = [...LOOPBACK, normal(hostname()), ...addresses];
  } else if (LOOPBACK.includes(h) || /^127\./.test(h)) {
    names = [...LOOPBACK, h];
  } else {
    names = [h];
  }
  return [...new Set(names)].map((name) => ({ name, port }));
}

/** `--allowed-host` values: `name` or `name:port` (an IPv6 address in brackets); a bad one is a usage error. */
export function parseAllowedHosts(values: readonly string[]): AllowedHost[] {
  return values.map((v) => {
    const parsed = splitHost(v.trim());
    if (!parsed || !/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$/i.test(parsed.name)) {
      throw new UsageError(
        `--allowed-host ${JSON.stringify(v)}: a host name or address, optionally with :port (e.g. dash.example.com or dash.example.com:443)`,
        { value: v },
      );
    }
    return { name: normal(parsed.name), port: parsed.port };
  });
}

/** `name[:port]` → its parts; null when the port is not a port. */
function splitHost(value: string): { name: string; port: number | null } | null {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(value);
  if (!m || m[1] === '') return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { name: m[1]!, port };
}

function allowed(list: readonly AllowedHost[], name: string, port: number): boolean {
  const n = normal(name);
  return list.some((a) => a.name === n && (a.port === null || a.port === port));
}

const shown = (list: readonly AllowedHost[]) =>
  list.map((a) => (a.port === null ? a.name : `${a.name}:${a.port}`)).join(', ');

/**
 * Refuses a request whose Host, or whose Origin when it has one, is not an allowed name (checked before auth, static
 * files included). `hosts()` is read per request: the port is known only once the server listens.
 */
export function hostGuard(hosts: () => readonly AllowedHost[]): MiddlewareHandler {
  return async (c: Context, next) => {
    const list = hosts();
    const url = new URL(c.req.url);
    const header = c.req.header('host') ?? url.host;
    const host = splitHost(header);
    const defaultPort = url.protocol === 'https:' ? 443 : 80;
    if (!host || !allowed(list, host.name, host.port ?? defaultPort)) {
      throw new ApiError(
        421,
        'LF_HOST_REFUSED',
        `Host ${JSON.stringify(header)} is not a name this dashboard answers to (allowed: ${shown(list)}): open it by one of those, or, behind a proxy that forwards another name, start it with --allowed-host <name>`,
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      let o: URL | null = null;
      try {
        o = new URL(origin);
      } catch {
        o = null;
      }
      const ok =
        o !== null &&
        (o.protocol === 'http:' || o.protocol === 'https:') &&
        allowed(list, o.hostname, o.port ? Number(o.port) : o.protocol === 'https:' ? 443 : 80);
      if (!ok) {
        throw new ApiError(
          403,
          'LF_ORIGIN_REFUSED',
          `Origin ${JSON.stringify(origin)} is not this dashboard (allowed: ${shown(list)}): requests from other sites are refused`,
        );
      }
    }
    return next();
  };
}
