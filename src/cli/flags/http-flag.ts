/**
 * `--http` and `--http-allow <hosts>`: which hosts HTTP tasks may call from this process (docs/language.md#http-tasks).
 * In process (`run`, `resume`, `serve`) a user runs their own definitions: any host unless --http-allow narrows it. A
 * NATS worker (or engine) runs requests for whoever can start runs: it takes HTTP attempts only with --http, and --http
 * needs the list.
 */
import { UsageError } from '../../errors/index.js';
import type { HttpRunner } from '../../runtime/index.js';
import { createHttpExecutor } from '../../handlers/index.js';

const HOST = /^(\*|\*\.[a-z0-9.-]+|[a-z0-9.-]+(:\d{1,5})?|\[[0-9a-f:.]+\](:\d{1,5})?)$/i;

/** The hosts of `--http-allow a,b:8080,*.c` (checked before anything runs); undefined when the flag is absent. */
export function parseHttpAllow(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const hosts = text
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const bad = hosts.find((h) => !HOST.test(h));
  if (hosts.length === 0 || bad !== undefined) {
    throw new UsageError(
      `--http-allow ${text}: ${bad !== undefined ? `"${bad}" is not a host` : 'no host given'}; give hosts, comma-separated: a name (api.example.com), a name with a port (127.0.0.1:8080), *.example.com for its subdomains, or * for any`,
      { value: text },
    );
  }
  return hosts;
}

/** The in-process HTTP executor: any host, or only those --http-allow lists. */
export function httpRunnerFlag(allow: string | undefined): HttpRunner {
  const hosts = parseHttpAllow(allow);
  return createHttpExecutor(hosts ? { allow: hosts } : {});
}

/** A worker's or engine's HTTP executor: none without --http; --http needs --http-allow. */
export function workerHttpFlag(opts: { http?: boolean; httpAllow?: string }): HttpRunner | undefined {
  if (!opts.http) {
    if (opts.httpAllow !== undefined)
      throw new UsageError(
        '--http-allow says which hosts HTTP tasks may call, but this process runs none: add --http',
        {},
      );
    return undefined;
  }
  const hosts = parseHttpAllow(opts.httpAllow);
  if (!hosts)
    throw new UsageError(
      '--http needs --http-allow <hosts>: the hosts HTTP tasks may call from here, comma-separated (e.g. --http-allow api.example.com,*.internal.example.com; * for any)',
      {},
    );
  return createHttpExecutor({ allow: hosts });
}
