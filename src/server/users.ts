/**
 * The dashboard's named users, from the one users file (src/users, docs/users.md): each signs in with their name and
 * password (POST /api/session) or their own token (`ledgerflow users token`, sent as a bearer token or opened once as
 * `?token=`), and acts as themselves at their level. The file keeps hashes only: a scrypt hash of the password, the
 * sha256 of the token (a lookup of a hash tells nothing of the token).
 */
import { sha256Hex } from '../digest/index.js';
import type { Actor as AuthorityActor } from '../authority/index.js';
import { readFileSync, statSync } from 'node:fs';
import { loadUsers, parseUsers, verifySecret, type UserRecord, type UsersFile } from '../users/index.js';
import { errorMessage, UsageError } from '../errors/index.js';

export class Users {
  private byHash = new Map<string, string>();
  private byName: ReadonlyMap<string, UserRecord> = new Map();
  private checkedAt = -Infinity;
  private stamp = '';

  /**
   * `file`: where they came from. The file is read again when it changed (looked at once a second at most), so
   * `users rm`, `set-level` and a new `users token` take effect in a running dashboard; a file that no longer validates
   * keeps the users read last, and `warn` says why once per change.
   */
  constructor(
    from: Pick<UsersFile, 'users'>,
    readonly file = '',
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.use(from);
    if (file) this.stamp = stampOf(file);
    this.checkedAt = Date.now();
  }

  /** The user whose token this is, or null. */
  userOf(token: string): string | null {
    return this.fresh().byHash.get(sha256Hex(token)) ?? null;
  }

  /** Whether the file still names the user (a session of someone removed ends). */
  has(name: string): boolean {
    return this.fresh().byName.has(name);
  }

  /** Whether `password` is the user's (false for an unknown user, or one with no password). */
  async signIn(name: string, password: string): Promise<boolean> {
    const u = this.fresh().byName.get(name);
    // An unknown name costs the same scrypt as a known one: the answer's time tells nothing of who exists.
    if (!u?.password) {
      await verifySecret(password, DUMMY_HASH);
      return false;
    }
    return verifySecret(password, u.password);
  }

  /** The user's level and domains, judged for each action (src/authority). */
  actorOf(name: string): AuthorityActor | undefined {
    const u = this.fresh().byName.get(name);
    return u ? { name: u.name, level: u.level, ...(u.domains ? { domains: u.domains } : {}) } : undefined;
  }

  get names(): string[] {
    return [...this.fresh().byName.keys()];
  }

  private use(from: Pick<UsersFile, 'users'>): void {
    this.byName = from.users;
    this.byHash = new Map();
    for (const u of from.users.values()) if (u.tokenSha256) this.byHash.set(u.tokenSha256.toLowerCase(), u.name);
  }

  private fresh(): this {
    if (!this.file || Date.now() - this.checkedAt < RECHECK_MS) return this;
    this.checkedAt = Date.now();
    const stamp = stampOf(this.file);
    if (stamp === this.stamp) return this;
    this.stamp = stamp;
    try {
      this.use(parseUsers(readFileSync(this.file, 'utf8'), this.file));
    } catch (err) {
      // Gone or broken: nobody is let in by a file that no longer says who is who (a removed file removes everyone).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.use({ users: new Map() });
      this.warn(
        `the users file ${this.file} changed and ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is gone: no one can sign in until it is back' : `is not valid (${errorMessage(err).split('\n').slice(0, 2).join(' ')}): the users read before stay`}`,
      );
    }
    return this;
  }
}

/** How often a running dashboard looks whether its users file changed. */
const RECHECK_MS = 1000;

function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** A scrypt hash of nothing anyone knows, checked for a name with no password (secrets.ts's format). */
const DUMMY_HASH = `scrypt$15$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/**
 * The dashboard's users from a users file: null when there is none and none was asked for (`required` false: the
 * project's users.yaml or LEDGERFLOW_USERS, looked for); a file asked for by --users must exist (exit 2).
 */
export async function loadUsersFile(
  path: string,
  required = true,
  warn?: (message: string) => void,
): Promise<Users | null> {
  const file = await loadUsers(path);
  if (!file && !required) return null;
  if (!file)
    throw new UsageError(
      `--users ${path}: no such file (\`ledgerflow users add <name> --level L0 --password-stdin --users ${path}\` makes one)`,
      { file: path },
    );
  if (file.users.size === 0)
    throw new UsageError(`--users ${path}: it names no one: add a user with \`ledgerflow users add\``, { file: path });
  return new Users(file, path, warn);
}
