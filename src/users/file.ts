/**
 * The users file (docs/users.md): who may act at which L0–L3 level, for both stores, changed by `ledgerflow users`.
 *
 *   users:
 *     alice:
 *       level: L0                 # L0 Commander … L3 Worker
 *       password: scrypt$15$8$…   # a hash (users add/passwd), never the password
 *     ops-east:
 *       level: L2
 *       domains: [inventory]      # an L2 starts the workflows of these domains
 *       token_sha256: 9f86d0…     # the dashboard token's sha256 (users token), never the token
 *       nats_password: $2a$11$…   # the same password for nats-server (bcrypt), never in clear
 *     scanner:
 *       level: L3
 *       queues: [default, vault]  # a Worker's task queues (users nats-conf)
 *     nora:
 *       level: L2
 *       stations: [north]         # acts through station north's leaf node (users nats-conf: its link)
 *
 * Found at `--users FILE`, else LEDGERFLOW_USERS, else `users.yaml` in the project folder. Written whole to a temporary
 * file renamed over it, readable by its owner only. Every problem is reported at its file:line:col.
 */
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { LEVELS, parseLevel, type Actor, type Level } from '../authority/index.js';
import { Locator, STATION_NAME } from '../definition/index.js';
import { errorMessage, UsageError, UsersFileError } from '../errors/index.js';
import { LegacyFileSchema, legacyUsers } from './legacy.js';
import { NAME_FIX, USER_NAME } from './names.js';
import { NATS_HASH_PATTERN, SECRET_PATTERN } from './secrets.js';

/** A task queue's name as a NATS subject token (its stream is LF_TASKS_<queue>). */
export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const QUEUE_FIX = 'a queue name is 1–64 letters, digits, _ and -';

export interface UserRecord extends Actor {
  /** The password's hash (secrets.ts), absent for a user who signs in with a token only, or not at all. */
  password?: string;
  /** The sha256 (hex) of the user's dashboard token (`users token`): the file holds no token, only what checks one. */
  tokenSha256?: string;
  /** The same password as a bcrypt hash, for nats-server (`users nats-conf`), which checks bcrypt only. */
  natsPassword?: string;
  /** A Worker's (L3) task queues: the streams `users nats-conf` lets it read (default: the default queue). */
  queues?: string[];
  /**
   * The stations (docs/nats.md#stations) whose leaf node this user acts through: `users nats-conf` lets each station's
   * link (`leaf-<station>`) carry this user's subjects, a Worker's of that station's queue only.
   */
  stations?: string[];
}

/** The user a station's leaf node links to the hub as (users nats-conf): `leaf-<station>`, in the file with `stations: [<station>]`. */
export const linkUser = (station: string): string => `leaf-${station}`;

export interface UsersFile {
  /** Where it is (absolute). */
  path: string;
  users: Map<string, UserRecord>;
  /** Written in the dashboard's first form (a list of names and tokens, legacy.ts): its users judged as L0 on the dashboard only. */
  legacy?: true;
}

const LevelSchema = z
  .union([z.string(), z.number()])
  .refine((v) => parseLevel(v) !== null, { error: `expected a level: ${LEVELS.join(', ')}` });
const UserSchema = z.strictObject({
  level: LevelSchema,
  domains: z.array(z.string().min(1), { error: 'expected a list of domain names' }).optional(),
  password: z
    .string()
    .regex(SECRET_PATTERN, {
      error: 'expected a scrypt hash as `ledgerflow users add` writes it (never a password in clear)',
    })
    .optional(),
  token_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, {
      error: 'expected the sha256 of a token, 64 hex digits, as `ledgerflow users token` writes it (never the token)',
    })
    .optional(),
  nats_password: z
    .string()
    .regex(NATS_HASH_PATTERN, {
      error: 'expected a bcrypt hash as `ledgerflow users passwd` writes it (never a password in clear)',
    })
    .optional(),
  queues: z
    .array(z.string().regex(QUEUE_NAME, { error: QUEUE_FIX }), { error: 'expected a list of queue names' })
    .optional(),
  stations: z
    .array(z.string().regex(STATION_NAME, { error: 'a station name is 1 to 56 letters, digits, _ and -' }), {
      error: 'expected a list of station names',
    })
    .optional(),
});
const FileSchema = z.strictObject(
  {
    users: z.record(z.string().regex(USER_NAME, { error: NAME_FIX }), UserSchema).default({}),
  },
  { error: 'expected `users:` and a map of name → { level, domains, password, token_sha256 }' },
);

/** The users file this command uses: the flag's, LEDGERFLOW_USERS's, or `users.yaml` in `cwd`. */
export function usersFilePath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string {
  return resolve(cwd, flag ?? (env.LEDGERFLOW_USERS || 'users.yaml'));
}

/** The file's users, checked; null when there is no file. */
export async function loadUsers(path: string): Promise<UsersFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsersFileError(path, [
      `${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`,
    ]);
  }
  return parseUsers(text, path);
}

export function parseUsers(text: string, path: string): UsersFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new UsersFileError(
      path,
      doc.errors.map((e) => `${path}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: YAML: ${e.message}`),
    );
  const value = doc.toJS() ?? {};
  const at = new Locator(doc, lineCounter, text);
  const problems = (issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>) =>
    new UsersFileError(
      path,
      issues.map((i) => {
        const p = i.path.map((x) => (typeof x === 'symbol' ? String(x) : x));
        const pos = at.locate(p);
        return `${path}:${pos.line}:${pos.col}: ${p.length ? `${p.join('.')}: ` : ''}${i.message}`;
      }),
    );
  if (Array.isArray((value as { users?: unknown }).users)) {
    const legacy = LegacyFileSchema.safeParse(value);
    if (!legacy.success) throw problems(legacy.error.issues);
    const r = legacyUsers(legacy.data);
    if ('problems' in r) throw problems(r.problems);
    return { path, users: r.users, legacy: true };
  }
  const parsed = FileSchema.safeParse(value);
  if (!parsed.success) throw problems(parsed.error.issues);
  const users = new Map<string, UserRecord>();
  for (const [name, u] of Object.entries(parsed.data.users)) {
    users.set(name, {
      name,
      level: parseLevel(u.level)!,
      ...(u.domains ? { domains: u.domains } : {}),
      ...(u.password ? { password: u.password } : {}),
      ...(u.token_sha256 ? { tokenSha256: u.token_sha256.toLowerCase() } : {}),
      ...(u.nats_password ? { natsPassword: u.nats_password } : {}),
      ...(u.queues ? { queues: u.queues } : {}),
      ...(u.stations ? { stations: u.stations } : {}),
    });
  }
  return { path, users };
}

/** Writes the file whole (a temporary file renamed over it), readable and writable by its owner only. */
export async function saveUsers(file: UsersFile): Promise<void> {
  const body: Record<string, Record<string, unknown>> = {};
  for (const u of [...file.users.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    body[u.name] = {
      level: u.level,
      ...(u.domains?.length ? { domains: [...u.domains] } : {}),
      ...(u.password ? { password: u.password } : {}),
      ...(u.tokenSha256 ? { token_sha256: u.tokenSha256 } : {}),
      ...(u.natsPassword ? { nats_password: u.natsPassword } : {}),
      ...(u.queues?.length ? { queues: [...u.queues] } : {}),
      ...(u.stations?.length ? { stations: [...u.stations] } : {}),
    };
  }
  const text = `# Who may act, at which of the L0–L3 levels (docs/users.md). Changed by \`ledgerflow users\`; passwords are kept as hashes.\n${stringify({ users: body }, { lineWidth: 0 })}`;
  const tmp = `${file.path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function checkUserName(name: string): void {
  if (!USER_NAME.test(name)) throw new UsageError(`"${name}" is not a user name: ${NAME_FIX}`, { name });
}

export function levelOrThrow(v: string): Level {
  const level = parseLevel(v);
  if (!level)
    throw new UsageError(
      `"${v}" is not a level: write one of ${LEVELS.join(', ')} (L0 Commander, L1 CMD.BRIDGE, L2 Station OPS, L3 Worker)`,
      { level: v },
    );
  return level;
}
