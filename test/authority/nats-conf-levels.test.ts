/**
 * `users nats-conf` gives each level the request subjects docs/users.md's
 * table says: start (and retry) requests to L0, L1 and L2, deploy requests to
 * L0 and L1, neither to a Worker; each under the user's own name only, with
 * the verdicts of their own requests to listen to; and a station's link only
 * that station's people and workers. Pure: no server.
 */
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/authority/index.js';
import { natsConf } from '../../src/users/nats-conf.js';
import type { UserRecord } from '../../src/users/file.js';

const user = (name: string, level: Level): [string, UserRecord] => [
  name,
  { name, level, natsPassword: `$2a$11$${name}` },
];
const users = new Map([
  user('engine', 'L1'),
  user('alice', 'L0'),
  user('bob', 'L1'),
  user('ops-east', 'L2'),
  user('scanner', 'L3'),
]);
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
      for (const s of [
        `lf.starts.${name}`,
        `lf.deploys.${name}`,
        `lf.limits.${name}`,
        `lf.upkeep.${name}`,
        `lf.verdicts.starts.${name}.*`,
        `lf.verdicts.deploys.${name}.*`,
        `lf.verdicts.limits.${name}.*`,
        `lf.verdicts.upkeep.${name}.*`,
      ])
        expect(b, `${name}: ${s}`).toContain(`"${s}"`);
    }
  });

  it('lets an L2 publish starts (the engine judges the domain) but not deploys; a Worker neither', () => {
    const ops = block('ops-east');
    expect(ops).toContain('"lf.starts.ops-east"');
    expect(ops).toContain('"lf.verdicts.starts.ops-east.*"');
    expect(ops).not.toContain('lf.deploys');
    expect(ops).not.toContain('lf.limits');
    // Upkeep requests reach the engine, which refuses an L2 in the embedded store's words (nats-upkeep-levels.test.ts).
    expect(ops).toContain('"lf.upkeep.ops-east"');
    expect(ops).toContain('"lf.verdicts.upkeep.ops-east.*"');
    expect(block('scanner')).not.toMatch(/lf\.(starts|deploys|limits|upkeep)/);
  });
});

describe('users nats-conf: reading the log (docs/users.md: L0–L2 read it, a Worker does not)', () => {
  /** A user's publish lines. */
  const publishes = (name: string): string[] => JSON.parse(/publish: (\[[^\]]*\])/.exec(block(name))![1]!) as string[];
  const READS = [
    '$JS.API.INFO',
    '$JS.API.STREAM.INFO.LF_EVENTS',
    '$JS.API.STREAM.MSG.GET.LF_EVENTS',
    // The large payloads the log refers to, by gets too (test/cli/nats-people-blobs.test.ts).
    '$JS.API.STREAM.MSG.GET.OBJ_LF_BLOBS',
  ];

  it("gives every person the log's message gets (and its payloads') and the two read-only looks before them; no consumer, no LF_PROGRESS", () => {
    for (const name of ['alice', 'bob', 'ops-east']) {
      const lines = publishes(name);
      expect(lines, name).toEqual(expect.arrayContaining(READS));
      // Nothing else of the JetStream API: no consumer (it could deliver the log anywhere), no stream change, no bucket.
      expect(
        lines.filter((s) => s.startsWith('$JS.') || s.startsWith('$KV.') || s.startsWith('$O.')),
        name,
      ).toEqual(READS);
    }
  });

  it('gives a Worker none of the log', () => {
    expect(block('scanner')).not.toContain('LF_EVENTS');
  });
});

describe("users nats-conf: a station's link (docs/nats.md#stations)", () => {
  const at = (name: string, level: Level, stations: string[], queues?: string[]): [string, UserRecord] => [
    name,
    { name, level, natsPassword: `$2a$11$${name}`, stations, ...(queues ? { queues } : {}) },
  ];
  const file = new Map([
    user('engine', 'L1'),
    user('alice', 'L0'),
    at('nora', 'L2', ['north']),
    at('sam', 'L1', ['south']),
    at('worker-north', 'L3', ['north'], ['station-north', 'default']),
    at('leaf-north', 'L3', ['north']),
  ]);
  const conf = natsConf(file, { engine: 'engine', source: 'users.yaml' });
  const link = (() => {
    const start = conf.text.indexOf('user: "leaf-north"');
    return conf.text.slice(start, conf.text.indexOf('user: "', start + 1));
  })();

  it('links a leaf node and nothing else; no other user links one', () => {
    expect(link).toContain('allowed_connection_types: ["LEAFNODE"]');
    for (const name of ['engine', 'alice', 'nora', 'worker-north'])
      expect(conf.text.slice(conf.text.indexOf(`user: "${name}"`)).split('\n')[0]).toContain(
        'allowed_connection_types: ["STANDARD", "WEBSOCKET"]',
      );
  });

  it("carries the station's people and its workers' station queue only: no secrets, no engine bucket, no other queue, no one else", () => {
    for (const s of [
      'lf.approvals.*.*.nora',
      'lf.starts.nora',
      '_INBOX_nora.>',
      'lf.inputs.worker-north.station-north.*',
      '$JS.hub.API.CONSUMER.MSG.NEXT.LF_TASKS_station-north.*',
      '$JS.hub.API.$KV.LF_ATTEMPTS.station-north.>',
      '_INBOX_worker-north.>',
    ])
      expect(link, s).toContain(`"${s}"`);
    for (const s of ['alice', 'sam', 'engine', 'LF_SECRETS', 'LF_ENGINE', 'default', 'lf.offer.', '$JS.API.'])
      expect(link, s).not.toContain(s);
  });

  it('says when a station named in the file has no link', () => {
    expect(conf.left).toEqual([
      expect.objectContaining({
        name: 'leaf-south',
        why: expect.stringContaining('users add leaf-south --level L3 --stations south'),
      }),
    ]);
  });
});
