/**
 * Whether this process can listen on --host/--port, found by listening there once and closing at once: `ui` checks it
 * before it opens a store or drives a run, so a mistyped host is one clear error (exit 2), not a failure after runs
 * were picked up.
 */
import { createServer } from 'node:net';
import { UsageError } from '../errors/index.js';

function why(code: string | undefined, host: string, port: number): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `--host ${host} is not an address and no host of that name resolves: pass an IP address of this machine (127.0.0.1, 0.0.0.0 for every interface, ::) or a name that resolves to one`;
    case 'EADDRNOTAVAIL':
      return `--host ${host} is not an address of this machine: pass one of its addresses (127.0.0.1, 0.0.0.0 for every interface, ::)`;
    case 'EADDRINUSE':
      return `--port ${port} is in use on ${host}: stop what listens there, or pass another port (--port 0: any free port)`;
    case 'EACCES':
    case 'EPERM':
      return `--port ${port} on ${host} needs privileges this user lacks: pass a port above 1023 (--port 0: any free port)`;
    default:
      return `cannot listen on ${host}:${port} (${code ?? 'unknown error'}): check --host and --port`;
  }
}

export async function checkListen(host: string, port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((res, rej) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      rej(new UsageError(why(err.code, host, port), { host, port, errno: err.code ?? null })),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => res()));
  });
}
