/**
 * The admission lock on JetStream (store/jetstream/exclusive.ts) when a create's reply is lost under load: the
 * create may have been stored. The holder reads whose the entry is: its own, it goes on holding it; another's, it
 * waits as for any holder; none, it creates again. (A `start` in CI once failed with "no reply from nats-server in
 * time" on this lock.) A fake bucket stands in for LF_ADMISSION: the timeout is the client's own error. And a lock
 * whose holder died: taken over at once when its pid can be judged here (docs/retention.md, what a crash does).
 */
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { KvExclusive } from '../../src/store/jetstream/exclusive.js';
import { BOOT } from '../../src/store/journal.js';
import { waitFor } from '../helpers/wait.js';

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

/** A bucket holding another holder's entry, made just now (not stale), whose update (a takeover) succeeds. */
function heldBy(holder: Record<string, unknown>) {
  const entries = new Map<string, Entry>([
    ['archive', { value: JSON.stringify(holder), revision: 1, created: new Date() }],
  ]);
  const calls = { get: 0, update: 0 };
  return {
    entries,
    calls,
    async create(name: string, value: string) {
      if (entries.has(name)) throw new Error('wrong last sequence: key exists');
      entries.set(name, { value, revision: 2, created: new Date() });
      return 2;
    },
    async get(name: string) {
      calls.get++;
      const e = entries.get(name);
      return e ? { operation: 'PUT', revision: e.revision, created: e.created, string: () => e.value } : null;
    },
    async update(name: string, value: string) {
      calls.update++;
      entries.set(name, { value, revision: 3, created: new Date() });
      return 3;
    },
    async delete(name: string) {
      entries.delete(name);
    },
  };
}

/** A pid no process has now: a child's that exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('the admission lock held by a process that died (a CLI killed mid-way)', () => {
  // Where this process's pids mean something, as the lock writes it (exclusive.ts: this boot, this pid namespace).
  const here = `${BOOT}/${readlinkSync('/proc/self/ns/pid')}`;

  it('is taken over at once when the holder was a process of this kernel and pid namespace', async () => {
    const kv = heldBy({ at: new Date().toISOString(), id: 'x', pids: here, pid: await deadPid() });
    await expect(lockWith(kv as never).run('archive', async () => 'ran')).resolves.toBe('ran');
    expect(kv.calls.update).toBe(1);
  });

  it('is waited for when the holder ran elsewhere (another boot or namespace), or is alive, or names no pid', async () => {
    const dead = await deadPid();
    for (const holder of [
      { pids: `other-boot/${readlinkSync('/proc/self/ns/pid')}`, pid: dead },
      { pids: `${BOOT}/pid:[1]`, pid: dead },
      { pids: here, pid: process.ppid },
      { at: new Date().toISOString(), id: 'an older version' },
    ]) {
      const kv = heldBy(holder);
      const ran = lockWith(kv as never).run('archive', async () => 'ran');
      // The waiter looks again and again; the holder then lets go.
      await waitFor('the waiter to look at the entry five times', () => kv.calls.get >= 5);
      kv.entries.delete('archive');
      await expect(ran).resolves.toBe('ran');
      expect(kv.calls.update, JSON.stringify(holder)).toBe(0);
    }
  });
});
