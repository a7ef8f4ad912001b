/**
 * `station:` on a task (docs/limits.md#stations) and what carries it to a
 * station: the queue it names, the checks around it, the domain a station's
 * clients give, the station's users file, what `status` says of a task that
 * waits for its station, and `worker --station`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';
import { stationOfQueue, stationQueue } from '../../src/definition/index.js';
import { parseServers, resolveOptions } from '../../src/store/jetstream/options.js';
import { apiPrefix, kvPutSubject, rememberDomain } from '../../src/store/jetstream/nats-lib.js';
import { natsConf } from '../../src/users/nats-conf.js';
import type { UserRecord } from '../../src/users/index.js';
import { markUnserved, type RunView } from '../../src/runtime/index.js';
import { workerQueue } from '../../src/cli/flags/station-flag.js';

describe('station: on a task', () => {
  it("routes its attempts to the station's queue, station-<name>, and keeps the station", () => {
    const r = parse(
      wf(
        '    - id: count\n      type: SIMPLE\n      station: north\n    - id: scan\n      type: COMMAND\n      command: [echo, hi]\n      station: south-2\n',
      ),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const [count, scan] = r.definition!.tasks;
    expect(count).toMatchObject({ queue: 'station-north', station: 'north' });
    expect(scan).toMatchObject({ queue: 'station-south-2', station: 'south-2' });
    expect(stationQueue('north')).toBe('station-north');
    expect(stationOfQueue('station-north')).toBe('north');
    expect(stationOfQueue('default')).toBeNull();
    expect(stationOfQueue('station-')).toBeNull();
  });

  it('is refused together with queue:, at the queue: key', () => {
    const text = wf('    - id: count\n      type: SIMPLE\n      station: north\n      queue: payments\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_CONFLICT');
    expect(d.message).toBe(
      "task count sets both station and queue; a station's tasks wait on its own queue (station-north): keep one",
    );
    expect(d).toMatchObject({ ...pos(text, 'queue:'), file: 'test.yaml' });
  });

  it('is ignored, with a warning, on a task that hands no attempt to a worker, and on a MAP whose items run an iterator', () => {
    const human = wf('    - id: sign\n      type: HUMAN\n      approvers: [alice]\n      station: north\n');
    const h = parse(human);
    expect(h.definition).not.toBeNull();
    expect(only(h, 'LF_FIELD_IGNORED')).toMatchObject({
      severity: 'warning',
      message: 'station is ignored on HUMAN task sign (it applies to SIMPLE, COMMAND, HTTP, MAP)',
      ...pos(human, 'station:'),
    });
    const map = wf(
      '    - id: each\n      type: MAP\n      items: "${workflow.input.folder}"\n      iterator: one\n      station: north\n    - id: one\n      type: SIMPLE\n      station: north\n',
    );
    const m = parse(map);
    expect(m.definition).not.toBeNull();
    expect(only(m, 'LF_FIELD_IGNORED').message).toBe(
      'station is ignored on MAP task each: its items run its iterator one, so give the iterator the station',
    );
  });

  it('is a name that makes one queue name', () => {
    const r = parse(wf('    - id: count\n      type: SIMPLE\n      station: "north pole"\n'));
    expect(r.definition).toBeNull();
    expect(
      r.diagnostics.some(
        (d) => d.severity === 'error' && /a station name is 1 to 56 letters, digits, _ and -/.test(d.message),
      ),
    ).toBe(true);
  });
});

describe("the JetStream domain of a station's clients", () => {
  const saved = process.env.LEDGERFLOW_NATS_DOMAIN;
  afterEach(() => {
    if (saved === undefined) delete process.env.LEDGERFLOW_NATS_DOMAIN;
    else process.env.LEDGERFLOW_NATS_DOMAIN = saved;
  });

  it("is the URL's ?domain= (on any URL of a list, for all), else LEDGERFLOW_NATS_DOMAIN", () => {
    delete process.env.LEDGERFLOW_NATS_DOMAIN;
    expect(parseServers('nats://worker:pw@127.0.0.1:4223?domain=hub')).toEqual({
      servers: ['nats://127.0.0.1:4223'],
      user: 'worker',
      pass: 'pw',
      domain: 'hub',
    });
    expect(parseServers('nats://a:1,nats://b:2?domain=hub').domain).toBe('hub');
    expect(parseServers('nats://127.0.0.1:4222').domain).toBeUndefined();
    expect(() => parseServers('nats://a:1?domain=hub,nats://b:2?domain=other')).toThrow(/different JetStream domains/);
    expect(() => parseServers('nats://a:1?domain=no.dots')).toThrow(/invalid JetStream domain/);
    process.env.LEDGERFLOW_NATS_DOMAIN = 'hub';
    expect(parseServers('nats://127.0.0.1:4223').domain).toBe('hub');
    expect(parseServers('nats://127.0.0.1:4223?domain=east').domain).toBe('east');
    expect(resolveOptions({ servers: 'nats://127.0.0.1:4223' }).domain).toBe('hub');
  });

  it("gives a connection's hand-made JetStream subjects the domain's prefix", () => {
    const plain = {};
    const leaf = {};
    rememberDomain(leaf, 'hub');
    expect(apiPrefix(plain)).toBe('$JS.API');
    expect(apiPrefix(leaf)).toBe('$JS.hub.API');
    expect(kvPutSubject(plain, 'LF_ATTEMPTS', 'q.k')).toBe('$KV.LF_ATTEMPTS.q.k');
    expect(kvPutSubject(leaf, 'LF_ATTEMPTS', 'q.k')).toBe('$JS.hub.API.$KV.LF_ATTEMPTS.q.k');
  });
});

describe("a station's users file (users nats-conf --domain)", () => {
  const users = new Map<string, UserRecord>([
    ['engine', { name: 'engine', level: 'L1', natsPassword: 'e' }],
    ['worker-north', { name: 'worker-north', level: 'L3', queues: ['station-north'], natsPassword: 'w' }],
    ['alice', { name: 'alice', level: 'L2', natsPassword: 'a' }],
  ]);

  it("names the hub's JetStream through the domain, and gives the account no JetStream of its own", () => {
    const hub = natsConf(users, { engine: 'engine', source: 'u.yaml' }).text;
    const leaf = natsConf(users, { engine: 'engine', source: 'u.yaml', domain: 'hub' }).text;
    expect(hub).toContain('"$JS.API.CONSUMER.MSG.NEXT.LF_TASKS_station-north.*"');
    expect(hub).toContain('"$KV.LF_ATTEMPTS.station-north.>"');
    expect(hub).toContain('jetstream: { max_streams: 1000');
    expect(leaf).toContain('"$JS.hub.API.CONSUMER.MSG.NEXT.LF_TASKS_station-north.*"');
    expect(leaf).toContain('"$JS.hub.API.$KV.LF_ATTEMPTS.station-north.>"');
    expect(leaf).toContain('"$JS.hub.API.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.station-north.>"');
    expect(leaf).toContain('"$JS.ACK.LF_TASKS_station-north.>"');
    expect(leaf).toContain('"lf.approvals.*.*.alice"');
    expect(leaf).toContain('"$JS.hub.API.STREAM.MSG.GET.LF_EVENTS"');
    expect(leaf).not.toMatch(/"\$JS\.API\.|"\$KV\./);
    expect(leaf).not.toContain('jetstream:');
  });
});

describe('status of a task that waits for its station', () => {
  const view = {
    status: 'RUNNING',
    tasks: { count: { status: 'IN_PROGRESS', attempts: 1 }, ship: { status: 'IN_PROGRESS', attempts: 1 } },
  } as unknown as RunView;
  const waits = [
    { task: 'count', handler: 'count', queue: 'station-north' },
    { task: 'ship', handler: 'ship', queue: 'default' },
  ];

  it('says the station it waits for, and when nobody there is heard, that the station or its link may be down', () => {
    const served = markUnserved(view, waits, () => false);
    expect(served.tasks.count!.waitingFor).toBe('station north (handler count)');
    expect(served.tasks.ship!.waitingFor).toBeUndefined();
    const unheard = markUnserved(view, waits, () => true);
    expect(unheard.tasks.count!.waitingFor).toBe(
      'station north: no worker there has announced handler count (is the station, or its link to the hub, down?)',
    );
    expect(unheard.tasks.ship!.waitingFor).toBe('handler ship on queue default: no worker has announced it');
  });
});

describe('worker --station and agent --station', () => {
  it("serves the station's queue; not with --queue", () => {
    expect(workerQueue({ station: 'north' })).toBe('station-north');
    expect(workerQueue({ queue: 'vault' })).toBe('vault');
    expect(workerQueue({})).toBeUndefined();
    expect(() => workerQueue({ station: 'north', queue: 'vault' })).toThrow(
      '--station north serves queue station-north: give --station or --queue, not both',
    );
    expect(() => workerQueue({ station: 'no pole' })).toThrow(/a station name is 1 to 56/);
  });
});
