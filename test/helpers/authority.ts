import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { cli, type CliResult } from './cli.js';
import { startNatsServer, type NatsServer } from './nats.js';
import { killLeftovers } from './processes.js';

/** docs/users.md's own workflow, as the authority tests write it (its domain and the Commander's review). */
export const STOCK_COUNT = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
`;

/** The same workflow in another domain (finance): an inventory Station OPS may not start it. */
export const PAYROLL = STOCK_COUNT.replace('stock-count', 'payroll').replace('domain: inventory', 'domain: finance');

/**
 * The people of a users file, added as docs/users.md does: `users add <name> --level <L> --password-stdin` (an L2
 * given `--domains inventory`), one after another (each `users` command holds the file's lock).
 */
export async function addUsers(
  dir: string,
  users: readonly (readonly [string, string])[],
  password: (name: string) => string,
): Promise<void> {
  for (const [name, level] of users) {
    const r = await cli(
      [
        'users',
        'add',
        name,
        '--level',
        level,
        ...(level === 'L2' ? ['--domains', 'inventory'] : []),
        '--password-stdin',
      ],
      { cwd: dir, stdin: `${password(name)}\n` },
    );
    expect(r.code, r.stderr).toBe(0);
  }
}

/**
 * A nats-server whose users come from a users file, as docs/users.md sets one up: each person added with
 * `users add <name> --level <L> --password-stdin` (password `pw-<name>`; an L2 given `--domains inventory`),
 * `users nats-conf --out ledgerflow-users.conf`, and a nats.conf that includes it.
 */
export async function usersNatsServer(dir: string, users: readonly (readonly [string, string])[]): Promise<NatsServer> {
  await addUsers(dir, users, (name) => `pw-${name}`);
  expect((await cli(['users', 'nats-conf', '--out', 'ledgerflow-users.conf'], { cwd: dir })).code).toBe(0);
  writeFileSync(join(dir, 'nats.conf'), 'jetstream {}\ninclude ./ledgerflow-users.conf\n');
  return startNatsServer({ config: join(dir, 'nats.conf') });
}

/** What `useUsersNats` gives a describe: the server's users as URLs and CLI calls, a client as the engine user, processes to kill. */
export interface UsersNats {
  readonly procs: ChildProcess[];
  /** usersNatsServer in `dir`, which `as` runs the CLI in. */
  start(dir: string, users: readonly (readonly [string, string])[]): Promise<NatsServer>;
  url(user: string): string;
  as(user: string, args: string[]): Promise<CliResult>;
  /** A client as the engine user (made once). */
  admin(): ClusterClient;
}

/** A users-file nats-server for the describe it is called in: its client, processes and server taken down after all. */
export function useUsersNats(): UsersNats {
  let server: NatsServer | undefined;
  let admin: ClusterClient | undefined;
  let dir = '';
  const procs: ChildProcess[] = [];
  afterAll(async () => {
    await admin?.close();
    await killLeftovers(procs);
    await server?.dispose();
  });
  const url = (user: string) => `nats://${user}:pw-${user}@127.0.0.1:${server!.port}`;
  return {
    procs,
    async start(d, users) {
      dir = d;
      server = await usersNatsServer(d, users);
      return server;
    },
    url,
    as: (user, args) => cli(['--nats', url(user), ...args], { cwd: dir }),
    admin: () => (admin ??= new ClusterClient(url('engine'))),
  };
}
