/**
 * `users nats-conf` gives each level the request subjects docs/users.md's
 * table says: start (and retry) requests to L0, L1 and L2, deploy requests to
 * L0 and L1, neither to a Worker; each under the user's own name only, with
 * the verdicts of their own requests to listen to. Pure: no server.
 */
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/authority/index.js';
import { natsConf } from '../../src/users/nats-conf.js';
import type { UserRecord } from '../../src/users/file.js';

const user = (name: string, level: Level): [string, UserRecord] => [name, { name, level, natsPassword: `$2a$11$${name}` }];
const users = new Map([user('engine', 'L1'), user('alice', 'L0'), user('bob', 'L1'), user('ops-east', 'L2'), user('scanner', 'L3')]);
const text = natsConf(users, { engine: 'engine', source: 'users.yaml' }).text;
/** A user's entry: from its `user:` to the next user's. */
const block = (name: string): string => {
  const start = text.indexOf(`user: "${name}"`);
  const next = text.indexOf('user: "', start + 1);
  return text.slice(start, next === -1 ? undefined : next);
};

describe('users nats-conf: start and deploy requests by level', () => {
  it('lets L0 and L1 publish starts and deploys under their own name, and hear their verdicts', () => {
    for (const name of ['alice', 'bob']) {
      const b = block(name);
      for (const s of [`lf.starts.${name}`, `lf.deploys.${name}`, `lf.limits.${name}`, `lf.verdicts.starts.${name}.*`, `lf.verdicts.deploys.${name}.*`, `lf.verdicts.limits.${name}.*`]) expect(b, `${name}: ${s}`).toContain(`"${s}"`);
    }
  });

  it('lets an L2 publish starts (the engine judges the domain) but not deploys; a Worker neither', () => {
    const ops = block('ops-east');
    expect(ops).toContain('"lf.starts.ops-east"');
    expect(ops).toContain('"lf.verdicts.starts.ops-east.*"');
    expect(ops).not.toContain('lf.deploys');
    expect(ops).not.toContain('lf.limits');
    expect(block('scanner')).not.toMatch(/lf\.(starts|deploys|limits)/);
  });
});
