/**
 * Stations for `ledgerflow dev` (docs/nats.md#stations): a hub that listens for leaf nodes (`dev --leaf-port 7422`),
 * and a station's leaf node beside it (`dev --leaf north`). A leaf node has no JetStream of its own: its clients reach
 * the hub's, in the hub's JetStream domain (nats.conf's `domain: hub`), through the leaf's link; a station's tasks wait
 * in the hub's queue while the link is down. The configs are written here, as files beside the store (nats-server has
 * no flags for leaf nodes):
 *
 * - the hub: the chosen config included, its account LF written again (as `users nats-conf` writes it: nats.conf's
 *   development users, at every station named by `--stations`, and each station's link `leaf-<name>` with the leaf
 *   password: LF_LEAF_PASSWORD, else one made and kept in `<store>/leaf-password`, owner-only), and a `leafnodes` port
 *   that takes a link only, which carries only its station's people and workers (users/station-links.ts);
 * - a leaf: a remote to the hub as its link, and the account LF with the development users of nats.conf, their
 *   JetStream permissions through the hub's domain (`users nats-conf --domain`), the worker user's queue the station's
 *   (station-<name>); a connection without credentials is the engine user, as nats-dev.conf's (development only).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { STATION_NAME, stationQueue } from '../../definition/index.js';
import { linkUser, natsConf, type UserRecord } from '../../users/index.js';
import { newRoutePassword, ROUTE_PASSWORD, ROUTE_PASSWORD_RULE } from '../../cluster/index.js';

/** The hub's JetStream domain (nats.conf's `jetstream { domain: hub }`): what a station's clients give, `?domain=hub`. */
export const HUB_DOMAIN = 'hub';
/** The hub's leaf port by default (NATS's own convention). */
export const DEFAULT_LEAF_PORT = 7422;

/**
 * The cluster's route password or the hub's leaf password: LF_ROUTE_PASSWORD / LF_LEAF_PASSWORD when the environment
 * gives one, else the one kept in `<storeDir>/route-password` / `leaf-password` (made on first use with `make`,
 * readable by its owner only), so that a node started again by hand rejoins, and a station links, with the same one.
 */
export function keptPassword(
  kind: 'route' | 'leaf',
  storeDir: string,
  make: boolean,
): { password: string; file: string | null } | null {
  const variable = `LF_${kind.toUpperCase()}_PASSWORD`;
  const given = process.env[variable];
  if (given) {
    if (!ROUTE_PASSWORD.test(given))
      throw new UsageError(`${variable}: ${ROUTE_PASSWORD_RULE.replace('route', kind)}`, { variable });
    return { password: given, file: null };
  }
  const file = join(storeDir, `${kind}-password`);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (ROUTE_PASSWORD.test(kept)) return { password: kept, file };
  }
  if (!make) return null;
  const password = newRoutePassword();
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return { password, file };
}

/** A path nats-server's `include` takes: relative to the including file (it joins an absolute one onto its folder). */
const includePath = (from: string, target: string): string => relative(dirname(from), target);

/** The hub's development users (nats.conf's, as `users nats-conf` writes them), at each of `stations`, and each station's link. */
function hubUsers(stations: readonly string[], password: string): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  const add = (name: string, u: Omit<UserRecord, 'name' | 'natsPassword'>, pw = `${name}-dev-password`) =>
    users.set(name, { name, natsPassword: pw, ...u });
  add('engine', { level: 'L1' });
  add('worker', { level: 'L3', stations: [...stations] });
  add('vault', { level: 'L3', queues: ['vault'] });
  for (const person of ['alice', 'bob', 'cfo', 'commander']) add(person, { level: 'L1', stations: [...stations] });
  for (const station of stations) add(linkUser(station), { level: 'L3', stations: [station] }, password);
  return users;
}

/**
 * Writes the hub's config (`config`, its account LF written again with the links of `stations`, and a leafnodes block
 * on `leafPort`) into `storeDir`; its path. A later `accounts` replaces the included one (nats-server keeps the last
 * value of a key).
 */
export function writeHubConfig(
  config: string,
  storeDir: string,
  leafPort: number,
  password: string,
  stations: readonly string[],
): string {
  for (const station of stations)
    if (!STATION_NAME.test(station))
      throw new UsageError(
        `--stations: ${JSON.stringify(station)} is not a station name (1 to 56 letters, digits, _ and -)`,
        { station },
      );
  const file = join(storeDir, 'hub-leafnodes.conf');
  const accounts = natsConf(hubUsers(stations, password), {
    engine: 'engine',
    source: `ledgerflow dev --leaf-port ${leafPort}`,
    hubDomain: HUB_DOMAIN,
  }).text.replace(/^#.*\n/gm, ''); // its own header lines go: ours says what the file is
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(
    file,
    `# Written by \`ledgerflow dev --leaf-port ${leafPort}\`: ${config} and a port for stations' leaf nodes (docs/nats.md#stations).
include ${JSON.stringify(includePath(file, config))}

# nats.conf's users again (development passwords), and the links of stations ${stations.join(', ')}: a link links a
# leaf node and nothing else, and carries only its station's people and workers; no other user links one.
${accounts}
leafnodes {
  listen: 127.0.0.1:${leafPort}
}
`,
    { mode: 0o600 },
  );
  return file;
}

/** nats.conf's development users, as `users nats-conf` would write them (plain passwords: development only). */
function devUsers(station: string): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  const add = (name: string, u: Omit<UserRecord, 'name' | 'natsPassword'>) =>
    users.set(name, { name, natsPassword: `${name}-dev-password`, ...u });
  add('engine', { level: 'L1' });
  add('worker', { level: 'L3', queues: [stationQueue(station)] });
  for (const person of ['alice', 'bob', 'cfo', 'commander']) add(person, { level: 'L1' });
  return users;
}

/** Writes station `name`'s leaf config into `storeDir`, linked to `hub` (a nats:// URL with the leaf credentials); its path. */
export function writeLeafConfig(name: string, storeDir: string, hub: string): string {
  if (!STATION_NAME.test(name))
    throw new UsageError(`--leaf ${JSON.stringify(name)}: a station name is 1 to 56 letters, digits, _ and -`, {
      station: name,
    });
  const file = join(storeDir, `leaf-${name}.conf`);
  const conf = natsConf(devUsers(name), { engine: 'engine', source: 'ledgerflow dev --leaf', domain: HUB_DOMAIN });
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(
    file,
    `# DEVELOPMENT ONLY. Written by \`ledgerflow dev --leaf ${name}\`: station ${name}'s leaf node (docs/nats.md#stations).
# No JetStream here: its clients use the hub's through domain ${HUB_DOMAIN} (--nats 'nats://…?domain=${HUB_DOMAIN}').
server_name: ${JSON.stringify(name)}
max_payload: 8MB

leafnodes {
  remotes: [ { url: ${JSON.stringify(hub)}, account: LF } ]
}

# nats.conf's users, their JetStream subjects through the hub's domain; worker serves queue ${stationQueue(name)}.
${conf.text.replace(/^#.*\n/gm, '')}
# A connection without credentials is the engine user (as nats-dev.conf): never expose this port.
no_auth_user: engine
`,
    { mode: 0o600 },
  );
  return file;
}

/** The hub URL station `station`'s leaf links to: `--hub` (default 127.0.0.1 on the default leaf port), given its link user and the password unless it names a user. */
export function hubRemote(hub: string | undefined, station: string, password: () => string): string {
  let url: URL;
  try {
    url = new URL(hub ?? `nats://127.0.0.1:${DEFAULT_LEAF_PORT}`);
  } catch {
    throw new UsageError(`--hub ${hub}: expected the hub's leaf node URL, e.g. nats://127.0.0.1:${DEFAULT_LEAF_PORT}`, {
      hub: hub ?? null,
    });
  }
  if (url.username === '') {
    url.username = linkUser(station);
    url.password = encodeURIComponent(password());
  }
  return url.toString().replace(/\/$/, '');
}
