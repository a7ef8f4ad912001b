/**
 * The admission lock on JetStream (store/jetstream/exclusive.ts) when a create's reply is lost under load: the
 * create may have been stored. The holder reads whose the entry is: its own, it goes on holding it; another's, it
 * waits as for any holder; none, it creates again. (A `start` in CI once failed with "no reply from nats-server in
 * time" on this lock.) A fake bucket stands in for LF_ADMISSION: the timeout is the client's own error.
 */
import { TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { KvExclusive } from '../../src/store/jetstream/exclusive.js';

interface Entry {
  value: string;
  revision: number;
  created: Date;
}

/** A bucket whose first `lose` creates are stored but answered with a timeout. */
function bucket(lose: number, stored = true) {
  const entries = new Map<string, Entry>();
  let revision = 0;
  let lost = 0;
  return {
    entries,
    async create(name: string, value: string) {
      if (entries.has(name)) throw new Error('wrong last sequence: key exists');
      if (lost < lose) {
        lost++;
        if (stored) entries.set(name, { value, revision: ++revision, created: new Date() });
        throw new TimeoutError();
      }
      entries.set(name, { value, revision: ++revision, created: new Date() });
      return revision;
    },
    async get(name: string) {
      const e = entries.get(name);
      return e ? { operation: 'PUT', revision: e.revision, created: e.created, string: () => e.value } : null;
    },
    async update() {
      throw new Error('wrong last sequence');
    },
    async delete(name: string) {
      entries.delete(name);
    },
  };
}

const lockWith = (kv: ReturnType<typeof bucket>) => {
  const lock = new KvExclusive(async () => {
    throw new Error('no connection in this test');
  });
  (lock as unknown as { kvPromise: Promise<unknown> }).kvPromise = Promise.resolve(kv);
  return lock;
};

describe("the admission lock when a create's reply is lost", () => {
  it('finds the entry its own and holds it (the create was stored)', async () => {
    const kv = bucket(1, true);
    let held = false;
    await lockWith(kv).run('admission-x', async () => {
      held = kv.entries.has('admission-x');
    });
    expect(held).toBe(true);
    expect(kv.entries.has('admission-x')).toBe(false); // released
  });

  it('creates again when the lost create was not stored', async () => {
    const kv = bucket(1, false);
    await expect(lockWith(kv).run('admission-y', async () => 'ran')).resolves.toBe('ran');
  });
});
