/**
 * `ledgerflow users add|list|rm|set-level|passwd|token` (docs/users.md): the users file, changed whole and atomically.
 * A password is read from stdin (`--password-stdin`, its first line) and stored as a scrypt hash only.
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../digest/index.js';
import { rename, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { levelText, type Level } from '../../authority/index.js';
import { LedgerflowError, UsageError } from '../../errors/index.js';
import {
  checkUserName,
  hashSecret,
  levelOrThrow,
  loadUsers,
  natsConf,
  natsHash,
  QUEUE_NAME,
  saveUsers,
  usersFilePath,
  type UserRecord,
  type UsersFile,
} from '../../users/index.js';
import { withLock } from '../../store/index.js';
import { STATION_NAME } from '../../definition/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';

interface FileOpt {
  users?: string;
  json?: boolean;
}

const fileOf = (o: FileOpt) => usersFilePath(o.users, process.env, process.cwd());

async function loadOrEmpty(path: string): Promise<UsersFile> {
  return (await loadUsers(path)) ?? { path, users: new Map() };
}

/** A comma-separated list flag's names (undefined: the flag is absent), each checked when `name` says how. */
function listOf(
  v: string | undefined,
  name?: { flag: string; re: RegExp; key: string; rule: string },
): string[] | undefined {
  const names = v
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = name ? names?.find((n) => !name.re.test(n)) : undefined;
  if (name && bad !== undefined)
    throw new LedgerflowError('LF_USAGE', `${name.flag}: "${bad}" is not a ${name.key} name (${name.rule})`, {
      [name.key]: bad,
    });
  return names;
}
const queuesOf = (v: string | undefined) =>
  listOf(v, { flag: '--queues', re: QUEUE_NAME, key: 'queue', rule: '1–64 letters, digits, _ and -' });

/** A password's two hashes: scrypt for ledgerflow's own checks, bcrypt for nats-server (users nats-conf). */
async function hashes(password: string): Promise<{ password: string; natsPassword: string }> {
  const [scrypt, bcrypt] = await Promise.all([hashSecret(password), natsHash(password)]);
  return { password: scrypt, natsPassword: bcrypt };
}

async function addUser(
  io: Io,
  name: string,
  o: FileOpt & { level: string; domains?: string; queues?: string; stations?: string; passwordStdin?: boolean },
): Promise<number> {
  checkUserName(name);
  const level = levelOrThrow(o.level);
  const file = await loadOrEmpty(fileOf(o));
  if (file.users.has(name))
    throw new LedgerflowError(
      'LF_USER_EXISTS',
      `${name} is in ${file.path} already (${levelText(file.users.get(name)!.level)}); change a level with \`ledgerflow users set-level ${name} <level>\`, or \`users rm ${name}\` first`,
      { name, file: file.path },
    );
  const password = o.passwordStdin ? await firstLine() : undefined;
  const domains = listOf(o.domains);
  const queues = queuesOf(o.queues);
  const stations = listOf(o.stations, {
    flag: '--stations',
    re: STATION_NAME,
    key: 'station',
    rule: '1 to 56 letters, digits, _ and -',
  });
  file.users.set(name, {
    name,
    level,
    ...(domains?.length ? { domains } : {}),
    ...(queues?.length ? { queues } : {}),
    ...(stations?.length ? { stations } : {}),
    ...(password ? await hashes(password) : {}),
  });
  await saveUsers(file);
  return said(
    io,
    o,
    file,
    name,
    `added ${name}: ${levelText(level)}${domains?.length ? `, domains ${domains.join(', ')}` : ''}${password ? ', with a password (kept as a hash)' : ''} to ${file.path}`,
  );
}

async function setLevel(
  io: Io,
  name: string,
  level: string,
  o: FileOpt & { domains?: string; queues?: string },
): Promise<number> {
  const to: Level = levelOrThrow(level);
  const file = await existing(fileOf(o), name);
  const u = file.users.get(name)!;
  const domains = listOf(o.domains);
  const queues = queuesOf(o.queues);
  file.users.set(name, { ...u, level: to, ...(domains ? { domains } : {}), ...(queues ? { queues } : {}) });
  await saveUsers(file);
  return said(
    io,
    o,
    file,
    name,
    `${name}: ${levelText(u.level)} → ${levelText(to)}${domains ? `, domains ${domains.join(', ') || '(none)'}` : ''} in ${file.path}`,
  );
}

async function setPassword(io: Io, name: string, o: FileOpt): Promise<number> {
  const file = await existing(fileOf(o), name);
  const u = file.users.get(name)!;
  file.users.set(name, { ...u, ...(await hashes(await firstLine())) });
  await saveUsers(file);
  return said(io, o, file, name, `${name}'s password set (kept as a hash) in ${file.path}`);
}

/**
 * A fresh dashboard token for the user, printed once: the file keeps its sha256 only, so a lost token is replaced,
 * never shown again. The token before it stops working.
 */
async function newToken(io: Io, name: string, o: FileOpt): Promise<number> {
  const file = await existing(fileOf(o), name);
  const token = randomBytes(32).toString('hex');
  file.users.set(name, { ...file.users.get(name)!, tokenSha256: sha256Hex(token) });
  await saveUsers(file);
  if (o.json) io.out(json({ file: file.path, name, token }));
  else {
    io.out(token);
    io.err(
      `${name}'s dashboard token, shown this once (${file.path} keeps its sha256 only): open the dashboard at /?token=<it>, or send Authorization: Bearer <it>; any token given before no longer works`,
    );
  }
  return EXIT.ok;
}

/**
 * nats-server's account block from the users file (users/nats-conf.ts): written to `--out` (atomically, owner only: it
 * holds hashes) or printed; the users it leaves out are said on stderr (and in --json).
 */
export async function usersNatsConfCmd(
  io: Io,
  o: FileOpt & { engine?: string; out?: string; domain?: string },
): Promise<number> {
  const path = fileOf(o);
  if (o.domain !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(o.domain))
    throw new UsageError(`--domain ${JSON.stringify(o.domain)}: a JetStream domain is 1-64 of A-Z a-z 0-9 _ -`, {
      domain: o.domain,
    });
  const file = await loadUsers(path);
  if (!file || file.users.size === 0)
    throw new LedgerflowError(
      'LF_USER_NOT_FOUND',
      `no users in ${path}: add them first (\`ledgerflow users add <name> --level L0 --password-stdin\`)`,
      { file: path },
    );
  let conf: ReturnType<typeof natsConf>;
  try {
    conf = natsConf(file.users, {
      engine: o.engine ?? 'engine',
      source: path,
      ...(o.domain ? { domain: o.domain } : {}),
    });
  } catch (err) {
    throw new LedgerflowError('LF_USER_NOT_FOUND', (err as Error).message, { file: path });
  }
  if (o.out) await writePrivately(resolve(o.out), conf.text);
  else if (!o.json) io.out(conf.text.trimEnd());
  for (const l of conf.left) io.err(`left out ${l.name}: ${l.why}`);
  if (o.json) io.out(json({ file: path, ...(o.out ? { out: resolve(o.out) } : { text: conf.text }), left: conf.left }));
  else if (o.out)
    io.err(`wrote ${resolve(o.out)}: include it from nats.conf (include ./${basename(o.out)}) and reload nats-server`);
  return EXIT.ok;
}

async function writePrivately(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

async function removeUser(io: Io, name: string, o: FileOpt): Promise<number> {
  const file = await existing(fileOf(o), name);
  file.users.delete(name);
  await saveUsers(file);
  return said(io, o, file, null, `removed ${name} from ${file.path}`);
}

/** A user as `--json` shows one: whether it has a password and a token, never them. */
const userRow = (u: UserRecord) => ({
  name: u.name,
  level: u.level,
  domains: u.domains ?? [],
  password: u.password !== undefined,
  token: u.tokenSha256 !== undefined,
});

export async function usersListCmd(io: Io, o: FileOpt): Promise<number> {
  const path = fileOf(o);
  const file = await loadUsers(path);
  const rows = [...(file?.users.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)).map(userRow);
  if (o.json) {
    io.out(json({ file: path, exists: file !== null, users: rows }));
    return EXIT.ok;
  }
  if (!file) {
    io.out(`no users file at ${path}: add the first with \`ledgerflow users add <name> --level L0\``);
    return EXIT.ok;
  }
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const domains = (r: (typeof rows)[number]) => r.domains.join(',') || '-';
  const dw = Math.max(7, ...rows.map((r) => domains(r).length));
  io.out(`${'NAME'.padEnd(width)}  ${'LEVEL'.padEnd(16)}  ${'DOMAINS'.padEnd(dw)}  PASSWORD  TOKEN`);
  for (const r of rows)
    io.out(
      `${r.name.padEnd(width)}  ${levelText(r.level).padEnd(16)}  ${domains(r).padEnd(dw)}  ${(r.password ? 'yes' : 'no').padEnd(8)}  ${r.token ? 'yes' : 'no'}`,
    );
  io.out(`${rows.length} user${rows.length === 1 ? '' : 's'} in ${path}`);
  return EXIT.ok;
}

/**
 * A change of the file, read and written whole under its lock file (`<file>.lock`): two `users` commands at once (a
 * script adding users side by side) each see the other's change, and no user is lost.
 */
function locked<A extends [Io, ...unknown[], FileOpt]>(
  change: (...a: A) => Promise<number>,
): (...a: A) => Promise<number> {
  return (...a) =>
    withLock(`${fileOf(a.at(-1) as FileOpt)}.lock`, { timeoutMs: 10_000, staleMs: 30_000 }, () => change(...a));
}

export const usersAddCmd = locked(addUser);
export const usersSetLevelCmd = locked(setLevel);
export const usersPasswdCmd = locked(setPassword);
export const usersTokenCmd = locked(newToken);
export const usersRmCmd = locked(removeUser);

async function existing(path: string, name: string): Promise<UsersFile> {
  const file = await loadUsers(path);
  if (!file?.users.has(name))
    throw new LedgerflowError(
      'LF_USER_NOT_FOUND',
      `${name} is not in ${path}${file ? `; it has ${[...file.users.keys()].join(', ') || 'no one'}` : ' (there is no such file)'}: \`ledgerflow users list\` shows who is`,
      { name, file: path },
    );
  return file;
}

function said(io: Io, o: FileOpt, file: UsersFile, name: string | null, line: string): number {
  if (o.json) {
    const u = name ? file.users.get(name)! : null;
    io.out(
      json({
        file: file.path,
        ...(u ? { user: userRow(u) } : {}),
      }),
    );
  } else io.out(line);
  return EXIT.ok;
}

/** The first line of stdin: a password piped in (`printf '%s\n' "$PW" | ledgerflow users add …`). */
async function firstLine(): Promise<string> {
  const line = (await text(process.stdin)).split(/\r?\n/)[0] ?? '';
  if (line === '')
    throw new LedgerflowError(
      'LF_USAGE',
      '--password-stdin read no password: pipe one line in (printf \'%s\\n\' "$PW" | ledgerflow users add …)',
    );
  return line;
}
