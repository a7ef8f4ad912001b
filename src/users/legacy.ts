/**
 * The dashboard's first users file (before levels), still read as it was written:
 *
 *   users:
 *     - name: alice
 *       token_sha256: 5e884898…   # sha256 of her token, hex
 *     - name: bob
 *       token: 3f1c…              # or the token itself: at least 32 characters
 *
 * Each of its users signs in to the dashboard with a token and is a Commander (L0), as they could do everything before
 * levels; `ledgerflow users` rewrites the file in the current form (the tokens kept as their sha256). The CLI judges
 * nobody from it: it named dashboard users only.
 */
import { sha256Hex } from '../digest/index.js';
import { NAME_FIX, USER_NAME } from './names.js';
import { z } from 'zod';

const Entry = z
  .strictObject(
    {
      name: z.string().regex(USER_NAME, { error: NAME_FIX }),
      token: z
        .string()
        .regex(/^\S{32,1000}$/, {
          error:
            'a token of at least 32 characters, no spaces (e.g. `openssl rand -hex 32`), or `ledgerflow users token <name>`',
        })
        .optional(),
      token_sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, {
          error: 'the sha256 of the token, 64 hex digits (`printf %s "$TOKEN" | sha256sum`)',
        })
        .optional(),
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown field ${iss.keys.join(', ')} (fields: name, token, token_sha256)`
          : 'expected { name, token } or { name, token_sha256 }',
    },
  )
  .refine((u) => (u.token === undefined) !== (u.token_sha256 === undefined), {
    error: 'give exactly one of token or token_sha256',
  });
export const LegacyFileSchema = z.strictObject({ users: z.array(Entry).min(1, { error: 'list at least one user' }) });

/** A user of the legacy file, as file.ts's UserRecord takes it. */
interface LegacyUser {
  name: string;
  level: 'L0';
  tokenSha256: string;
}

/** The users of a checked legacy file, or the problems (path in the file, message) its schema could not say. */
export function legacyUsers(
  data: z.infer<typeof LegacyFileSchema>,
): { users: Map<string, LegacyUser> } | { problems: Array<{ path: (string | number)[]; message: string }> } {
  const users = new Map<string, LegacyUser>();
  const byHash = new Map<string, string>();
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  data.users.forEach((u, i) => {
    if (users.has(u.name)) {
      problems.push({ path: ['users', i, 'name'], message: `${u.name} is listed twice` });
      return;
    }
    const hash = (u.token_sha256 ?? sha256Hex(u.token!)).toLowerCase();
    const other = byHash.get(hash);
    if (other !== undefined) {
      problems.push({
        path: ['users', i],
        message: `${u.name} has the same token as ${other}: give each user a token of their own`,
      });
      return;
    }
    byHash.set(hash, u.name);
    users.set(u.name, { name: u.name, level: 'L0', tokenSha256: hash });
  });
  return problems.length > 0 ? { problems } : { users };
}
