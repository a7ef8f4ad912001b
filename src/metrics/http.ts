/** `GET /metrics` on its own port (`serve` and `engine`'s `--metrics-port`): a few lines of node:http. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { UsageError, errorMessage } from '../errors/index.js';

interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

const Port = z.coerce
  .number({ error: 'a port is a number' })
  .int('a port is a whole number')
  .min(0, 'a port is 0 to 65535')
  .max(65535, 'a port is 0 to 65535');
const Host = z.string().trim().min(1, 'a host name or address');

/** `--metrics-port` / `--metrics-host`, checked at the boundary (port 0: any free port, printed at start). */
export function metricsListenFlags(port: string, host = '127.0.0.1'): { port: number; host: string } {
  const p = Port.safeParse(port);
  if (!p.success) throw new UsageError(`--metrics-port ${port}: ${p.error.issues[0]!.message}`, { value: port });
  const h = Host.safeParse(host);
  if (!h.success) throw new UsageError(`--metrics-host: ${h.error.issues[0]!.message}`, { value: host });
  return { port: p.data, host: h.data };
}

export function serveMetrics(
  source: MetricsSource,
  listen: { port: number; host: string },
  log: (line: string) => void = () => {},
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    source.text().then(
      (text) =>
        res.writeHead(200, { 'content-type': source.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        log(`metrics: ${errorMessage(err)}`);
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics could not be collected: ${errorMessage(err)}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          `cannot serve metrics on ${listen.host}:${listen.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}; pick another --metrics-port`,
          { port: listen.port, host: listen.host },
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
