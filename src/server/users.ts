/**
 * Named users of the embedded dashboard (`ledgerflow ui --users <file>`): each
 * person has a token of their own, so an action is recorded as the person
 * who signed in rather than as whatever name the holder of one shared token
 * types. The file is a claim checked at the boundary (zod): YAML or JSON,
 *
 *   users:
 *     - name: alice
 *       token_sha256: 5e884898…   # sha256 of her token, hex (the file then holds no secret)
 *     - name: bob
 *       token: 3f1c…              # or the token itself: at least 32 characters
 *
 * A bad file refuses to start (a usage error, exit 2) naming the entry and
 * the fix. Tokens are compared by their sha256 (a lookup of a hash tells
 * nothing of the token).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { UsageError, errorMessage } from '../errors/index.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}$/;
const Entry = z.object({
  name: z.string().regex(NAME, 'a user name: 1-200 of A-Z a-z 0-9 _ . @ - (starting with a letter or digit)'),
  token: z.string().regex(/^\S{32,1000}$/, 'a token of at least 32 characters, no spaces (e.g. `openssl rand -hex 32`)').optional(),
  token_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the sha256 of the token, 64 hex digits (`printf %s "$TOKEN" | sha256sum`)').optional(),
}).strict().refine((u) => (u.token === undefined) !== (u.token_sha256 === undefined), { message: 'give exactly one of token or token_sha256' });
const UsersFile = z.object({ users: z.array(Entry).min(1, 'list at least one user') }).strict();

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export class Users {
  private readonly byHash: Map<string, string>;
  constructor(entries: ReadonlyArray<{ name: string; hash: string }>, readonly file = '') {
    this.byHash = new Map(entries.map((e) => [e.hash.toLowerCase(), e.name]));
  }
  /** The user whose token this is, or null. */
  userOf(token: string): string | null {
    return this.byHash.get(sha256Hex(token)) ?? null;
  }
  get names(): string[] { return [...new Set(this.byHash.values())]; }
}

/** Reads and checks a users file; a usage error naming the file, the entry and the fix otherwise. */
export function loadUsersFile(path: string): Users {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) {
    throw new UsageError(`--users ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, { file: path });
  }
  let value: unknown;
  try { value = parse(text); } catch (err) {
    throw new UsageError(`--users ${path}: not YAML or JSON: ${errorMessage(err).split('\n')[0]}`, { file: path });
  }
  return parseUsers(value, path);
}

export function parseUsers(value: unknown, path: string): Users {
  const r = UsersFile.safeParse(value);
  const bad = (where: string, what: string) => new UsageError(`--users ${path}: ${where}: ${what}`, { file: path, field: where });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(file)';
    const what = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')} (fields: name, token, token_sha256)` : issue.message;
    throw bad(where, what);
  }
  const seenNames = new Set<string>();
  const seenHashes = new Map<string, string>();
  const entries = r.data.users.map((u, i) => {
    if (seenNames.has(u.name)) throw bad(`users[${i}].name`, `${u.name} is listed twice`);
    seenNames.add(u.name);
    const hash = (u.token_sha256 ?? sha256Hex(u.token!)).toLowerCase();
    const other = seenHashes.get(hash);
    if (other !== undefined) throw bad(`users[${i}]`, `${u.name} has the same token as ${other}: give each user a token of their own`);
    seenHashes.set(hash, u.name);
    return { name: u.name, hash };
  });
  return new Users(entries, path);
}
