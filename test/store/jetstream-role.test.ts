/**
 * A role one process of a cluster holds at a time (store/jetstream/role.ts), on a real nats-server: the first to ask
 * takes it, a standby takes it over when the holder gives it up or its entry stops moving for ROLE_STALE_MS, and a
 * holder that was taken over from learns it at its next renewal. The clock and the rounds are the test's own
 * (RoleTimers): a stalled holder is one whose rounds do not come.
 */
import { describe, expect, it } from 'vitest';
import {
  JetStreamEventStore,
  Kvm,
  ROLE_STALE_MS,
  holdRole,
  jetstream,
  type Role,
  type RoleTimers,
} from '../../src/store/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

/** Rounds when the test says, on a clock it moves. */
function manualTimers(): RoleTimers & { at: number; round(): void } {
  let fn: (() => void) | null = null;
  return {
    at: 0,
    now() {
      return this.at;
    },
    every(_ms, f) {
      fn = f;
      return () => {
        fn = null;
      };
    },
    round() {
      fn?.();
    },
  };
}

describe.skipIf(noNats)('a role one process holds at a time (NATS)', () => {
  const c = useCluster();

  it('is taken by the first, taken over once given up, and once its entry stops moving, the stalled holder learning it lost', async () => {
    const nc = await c.connect();
    const kv = () => new Kvm(jetstream(nc)).create('LF_ADMISSION', { history: 1, ttl: 60_000 });
    const name = 'role-test';
    const seen: string[] = [];
    const role = (who: string, timers: RoleTimers): Role => {
      const r = holdRole(kv, name, (l) => seen.push(`${who}: ${l}`), timers);
      r.onChange((held) => seen.push(`${who} ${held ? 'took' : 'lost'}`));
      c.defer(() => r.stop());
      return r;
    };

    const ta = manualTimers();
    const a = role('a', ta);
    await waitFor('a to take the role', () => a.held(), { detail: () => seen.join('; ') });
    const tb = manualTimers();
    const b = role('b', tb);
    // b looks, finds a's entry, and stands by while a renews (its entry moves) however long b waits.
    for (let i = 0; i < 3; i++) {
      tb.at += ROLE_STALE_MS;
      ta.round();
      await waitFor('a to renew', async () => (await (await kv()).get(name))!.revision > 0);
      tb.round();
    }
    await new Promise((r) => setImmediate(r));
    expect([a.held(), b.held()]).toEqual([true, false]);

    // a stalls (no more rounds): b takes over once the entry has not moved for ROLE_STALE_MS on b's clock, not before.
    let rev = (await (await kv()).get(name))!.revision;
    tb.round();
    await waitFor('b to note the entry', async () => {
      tb.round();
      return (await (await kv()).get(name))!.revision === rev;
    });
    tb.at += ROLE_STALE_MS - 1;
    tb.round();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.held()).toBe(false);
    tb.at += 1;
    await waitFor('b to take the role over', () => {
      tb.round();
      return b.held();
    });
    // a's next round: its renewal is refused, and it gives the role up.
    expect(a.held()).toBe(true);
    await waitFor('a to learn it lost the role', () => {
      ta.round();
      return !a.held();
    });
    expect(seen.filter((l) => / (took|lost)$/.test(l))).toEqual(['a took', 'b took', 'a lost']);

    // b stops: it deletes its entry, so a takes the role at its next round, with no wait.
    rev = (await (await kv()).get(name))!.revision;
    await b.stop();
    expect(b.held()).toBe(false);
    await waitFor('a to take the role back at once', () => {
      ta.round();
      return a.held();
    });
    expect(seen.filter((l) => l.includes(':'))).toEqual([]);
  }, 60_000);

  it('a bucket this process may not use: the role is failing, said once however many rounds, and not held', async () => {
    const refused = () =>
      Promise.reject(new Error('Permissions Violation for Publish to "$JS.API.STREAM.INFO.KV_LF_ADMISSION"'));
    const said: string[] = [];
    const t = manualTimers();
    const r = holdRole(refused, 'role-refused', (l) => said.push(l), t);
    c.defer(() => r.stop());
    await waitFor('the first round to fail', () => r.failing());
    for (let i = 0; i < 5; i++) {
      t.round();
      await new Promise((res) => setImmediate(res));
    }
    expect(r.held()).toBe(false);
    expect(r.failing()).toBe(true);
    expect(said).toEqual([
      'role role-refused: Permissions Violation for Publish to "$JS.API.STREAM.INFO.KV_LF_ADMISSION"; trying every 2 s',
    ]);
  });

  it("is kept in the store's bucket: two stores on one server, one holder", async () => {
    const one = new JetStreamEventStore({ servers: c.url });
    const two = new JetStreamEventStore({ servers: c.url });
    c.defer(() => one.close());
    c.defer(() => two.close());
    const r1 = one.role('role-two-stores', () => {});
    await waitFor('the first to hold it', () => r1.held());
    const r2 = two.role('role-two-stores', () => {});
    await new Promise((r) => setTimeout(r, 300));
    expect(r2.held()).toBe(false);
    await r1.stop();
    await waitFor('the second to take it once the first stops', () => r2.held(), { timeout: 10_000 });
    await r2.stop();
  }, 30_000);
});
