/**
 * The servers the peers of `npm run bench -- peers` run on, each started by
 * the bench on free loopback ports in a temp folder of its own and removed
 * again (never the machine's shared services):
 *
 * - redis-server (Debian's package), memory only (`--appendonly no
 *   --save ""`) or with `--appendonly yes --appendfsync everysec`;
 * - PostgreSQL: `initdb` and `pg_ctl` from Debian's packages
 *   (/usr/lib/postgresql/<newest>/bin; as root, run as the `postgres` user,
 *   since initdb refuses root), trust auth on 127.0.0.1, its defaults
 *   otherwise (fsync and synchronous_commit on); or the server at
 *   $LEDGERFLOW_BENCH_PG (a connection URL), used as given;
 * - restate-server, the binary @restatedev/restate-server installs in
 *   bench/peers (its platform package), TCP only, telemetry off, its
 *   defaults otherwise (24 partitions, RocksDB with WAL fsync).
 *
 * Each start throws with the reason when it cannot run here: the peer is
 * then reported missing with that reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/nats.js';
import { atExit, discard } from './kit.js';

export interface PeerServer {
  /** How a client reaches it (redis: the port; PostgreSQL: a connection URL; Restate: the admin URL). */
  url: string;
  /** Restate's ingress. */
  ingressUrl?: string;
  /** The server's process, for its CPU (null: not started here). */
  pid: number | null;
  dispose(): Promise<void>;
}

/** Spawns a server and waits for `readyLine` on its output; SIGKILLed at this process's exit. */
async function spawnServer(
  bin: string,
  args: string[],
  readyLine: string | null,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ proc: ChildProcess; stop(): Promise<void> }> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  const kill = () => proc.kill('SIGKILL');
  const undo = atExit(kill);
  let log = '';
  const keep = (d: string) => {
    log = (log + d).slice(-8_000);
  };
  proc.stdout!.setEncoding('utf8').on('data', keep);
  proc.stderr!.setEncoding('utf8').on('data', keep);
  const stop = async () => {
    undo();
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  if (readyLine !== null) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void stop();
        reject(new Error(`${bin} not ready in ${(opts.timeoutMs ?? 20_000) / 1000} s:\n${log}`));
      }, opts.timeoutMs ?? 20_000);
      const check = () => {
        if (log.includes(readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', check);
      proc.stderr!.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${bin} exited (${code}):\n${log}`));
      });
    });
  }
  return { proc, stop };
}

export async function startRedis(aof: boolean): Promise<PeerServer> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-redis-'));
  const port = await freePort();
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  try {
    const { proc, stop } = await spawnServer(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        ...persistence,
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      'Ready to accept connections',
      { timeoutMs: 15_000 },
    );
    return {
      url: String(port),
      pid: proc.pid!,
      dispose: async () => {
        await stop();
        discard(dir);
      },
    };
  } catch (err) {
    discard(dir);
    throw err;
  }
}

/** The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter(
    (v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')),
  );
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

export async function startPostgres(): Promise<PeerServer> {
  const given = process.env.LEDGERFLOW_BENCH_PG;
  if (given) return { url: given, pid: null, dispose: async () => undefined };
  const bin = postgresBin();
  if (!bin)
    throw new Error(
      'PostgreSQL is not installed (apt-get install postgresql: initdb and pg_ctl under /usr/lib/postgresql/*/bin), and LEDGERFLOW_BENCH_PG is not set',
    );
  // initdb refuses to run as root: as root, the cluster is made and run by the postgres user.
  let as: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const uid = id('-u');
    if (!Number.isInteger(uid) || uid <= 0)
      throw new Error('running as root and there is no postgres user to run initdb as (initdb refuses root)');
    as = { uid, gid: id('-g') };
  }
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-pg-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(join(bin, tool), args, { encoding: 'utf8', ...(as ?? {}), cwd: dir, timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(
        `${tool} failed (${r.status ?? r.error?.message}): ${(r.stderr || r.stdout || '').slice(-1_000)}`,
      );
  };
  const stop = () =>
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], {
      ...(as ?? {}),
      cwd: dir,
      timeout: 60_000,
    });
  let undoExit = () => {};
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    undoExit = atExit(() => {
      stop();
    });
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir}`,
      'start',
    ]);
  } catch (err) {
    undoExit();
    stop();
    discard(dir);
    throw err;
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/ledgerflow_bench_dbos_sys`,
    pid,
    dispose: async () => {
      undoExit();
      stop();
      discard(dir);
    },
  };
}

export const restateServerBin = (peers: string) =>
  join(
    peers,
    'node_modules',
    '@restatedev',
    `restate-server-${process.platform}-${process.arch}`,
    'bin',
    'restate-server',
  );

export async function startRestate(peers: string): Promise<PeerServer> {
  const bin = restateServerBin(peers);
  if (!existsSync(bin))
    throw new Error(
      `no restate-server binary at ${bin} (@restatedev/restate-server ships one for linux/darwin on x64/arm64 only)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-restate-'));
  const [ingress, admin, fabric] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
  };
  const server = await spawnServer(
    bin,
    ['--base-dir', join(dir, 'data'), '--node-name', 'bench', '--no-logo', '--listen-mode', 'tcp'],
    null,
    { env },
  );
  const dispose = async () => {
    await server.stop();
    discard(dir);
  };
  const adminUrl = `http://127.0.0.1:${admin}`;
  const ingressUrl = `http://127.0.0.1:${ingress}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.proc.exitCode !== null) throw new Error(`restate-server exited (${server.proc.exitCode})`);
      const ok = async (url: string) => (await fetch(url).catch(() => null))?.ok === true;
      if ((await ok(`${adminUrl}/health`)) && (await ok(`${ingressUrl}/restate/health`))) break;
      if (Date.now() > deadline) throw new Error('restate-server: admin and ingress not healthy in 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { url: adminUrl, ingressUrl, pid: server.proc.pid!, dispose };
}
