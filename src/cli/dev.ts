/** `ledgerflow dev`: a local nats-server from nats.conf with its store under .ledgerflow/nats/, in the foreground. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { packageRoot } from '../api/index.js';
import { UsageError } from '../errors/index.js';
import type { Io } from './commands.js';

function natsServerBinary(): string {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new UsageError('nats-server is not installed: install it (Debian: `apt-get install nats-server`) or point --nats at a running server', {});
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer().once('error', () => res(false)).listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

export async function devCmd(io: Io, opts: { port?: string; storeDir?: string; config?: string }): Promise<number> {
  const port = Number(opts.port ?? 4222);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port ${opts.port} is not a TCP port`, { value: opts.port ?? null });
  if (!(await portFree(port))) {
    throw new UsageError(`port ${port} is already in use (another nats-server?): pass --port <free port>, or use that server with --nats nats://127.0.0.1:${port}`, { port });
  }
  const config = resolve(opts.config ?? (existsSync('nats.conf') ? 'nats.conf' : join(packageRoot(), 'nats.conf')));
  const storeDir = resolve(opts.storeDir ?? join('.ledgerflow', 'nats'));
  mkdirSync(storeDir, { recursive: true });
  const bin = natsServerBinary();
  // -m -1: a random monitoring port, so a dev server never collides with another on nats.conf's.
  const child = spawn(bin, ['-c', config, '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-m', '-1'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `nats://127.0.0.1:${port}`;
  io.out(`nats-server (JetStream) listening on ${url}`);
  io.out(`  config ${config}, store ${storeDir}`);
  io.out(`  use it with: --nats ${url}   or   export LEDGERFLOW_NATS_URL=${url}`);
  io.out('  users (nats.conf; development passwords, change them in production):');
  io.out(`    engines and admin commands   ${url}  (no credentials = the engine user)`);
  io.out(`    workers                      nats://worker:worker-dev-password@127.0.0.1:${port}`);
  io.out(`    approvers                    nats://alice:alice-dev-password@127.0.0.1:${port}  (also bob, cfo, commander)`);
  io.out('  then: ledgerflow engine --nats … & ledgerflow worker --nats … --handlers <module>');
  io.out('  stop with Ctrl-C');
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise((res) => child.on('exit', (code) => res(code === 0 || code === null ? 0 : 1)));
}
