/**
 * Which nats-server config `ledgerflow dev` starts, and what it means for a connection without credentials. ledgerflow
 * ships two of each: nats.conf and nats-cluster.conf, the production files, refuse such a connection; nats-dev.conf and
 * nats-cluster-dev.conf (the default of `dev`) include them and make it the engine user, which may publish anything, so
 * it could approve under anyone's name. `dev` says which it runs, loudly when it is the latter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../../files/index.js';
import { UsageError } from '../../errors/index.js';

/** The files ledgerflow ships: what `dev` starts by default, and the production one to name instead. */
export const CONFIGS = {
  single: { dev: 'nats-dev.conf', production: 'nats.conf' },
  cluster: { dev: 'nats-cluster-dev.conf', production: 'nats-cluster.conf' },
} as const;

/**
 * The config to start: --config as given (relative to the current directory, else one of the files ledgerflow ships, so
 * `--config nats.conf` works wherever ledgerflow is installed), else the dev file in the current directory, else the
 * shipped one.
 */
export function configFile(given: string | undefined, fallback: string): string {
  if (given === undefined) return resolve(existsSync(fallback) ? fallback : join(packageRoot(), fallback));
  if (existsSync(given)) return resolve(given);
  const shipped = join(packageRoot(), given);
  if (!isAbsolute(given) && existsSync(shipped)) return shipped;
  throw new UsageError(
    `--config ${given}: no such file (ledgerflow ships ${[...Object.values(CONFIGS.single), ...Object.values(CONFIGS.cluster)].join(', ')})`,
    { config: given },
  );
}

/**
 * The user a connection without credentials becomes under `config`: its `no_auth_user` (the last one, following
 * `include`s), or null when there is none and such a connection is refused. A line reader, not a parser of the whole
 * syntax: enough for the shipped files and ones written like them.
 */
export function anonymousUser(config: string, depth = 0): string | null {
  let text: string;
  try {
    text = readFileSync(config, 'utf8');
  } catch {
    return null;
  }
  let user: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(#|\/\/).*$/, '').trim();
    const include = /^include\s+['"]?([^'"\s;]+)['"]?\s*;?$/.exec(line);
    if (include && depth < 10) user = anonymousUser(resolve(dirname(config), include[1]!), depth + 1) ?? user;
    const m = /^no_auth_user\s*[:=]?\s*['"]?([^'"\s;,]+)['"]?/.exec(line);
    if (m) user = m[1]!;
  }
  return user;
}

/**
 * The warning `dev` prints when a connection without credentials is `user`: which file does it, what that allows, and
 * how to run the production file. `nats` is the servers' URL, `production` the file to name instead.
 */
export function devWarning(config: string, user: string, nats: string, production: string, cluster: string): string[] {
  return [
    `  !! DEVELOPMENT ONLY: ${config} sets no_auth_user: ${user}.`,
    `  !! A connection without credentials IS the ${user} user${user === 'engine' ? ", which may publish anything: it can approve under any approver's name (recorded as them), control any run and write any record" : ''}. Never expose this server.`,
    `  !! To run the production file, which refuses connections without credentials: ledgerflow dev${cluster} --config ${production}`,
    `  !!   and connect with credentials, e.g. --nats ${withUser(nats, 'engine')}`,
  ];
}

/** A URL with a user of the shipped files (their development passwords); on a list, the first server carries them for all. */
export const withUser = (url: string, user: string): string =>
  url.replace('nats://', `nats://${user}:${user}-dev-password@`);
