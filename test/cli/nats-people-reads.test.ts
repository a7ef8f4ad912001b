/**
 * docs/users.md: L0–L2 users read the log "as `list`, `status` and `stats` read it", and docs/handlers.md: people's
 * users may not read LF_PROGRESS, "their `status` shows the values outcomes kept, from the log". On a nats-server whose
 * users come from the users file (`users nats-conf`), with an engine running the page's progress handler: carol (L1)
 * starts a run with `start --input-file` and waits on it as herself, and she and an L2 read it through the CLI as the
 * engine user does, the kept progress with it; the run's log is longer than the commits a read gets before it would
 * make a consumer, which a person's user may not (their reads walk it by gets). And people still may not write the
 * streams, make a consumer, read LF_PROGRESS or change the log.
 */
import type { Msg, Subscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useUsersNats } from '../helpers/authority.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { SCAN_YAML, heldHandlers, scanFolder } from '../progress/docs.js';

/** The page's workflow, then twelve more scans in a loop (docs/language.md#loops-do_while): a log of some 25 commits. */
const WORKFLOW = `${SCAN_YAML}    - id: rounds
      type: DO_WHILE
      depends_on: [scan]
      loop_over: [again]
      loop_condition: "rounds.output.iteration < 12"
    - id: again
      type: SIMPLE
      handler: scan
      input: { folder: "\${workflow.input.folder}" }
`;
const USERS = [
  ['engine', 'L1'],
  ['carol', 'L1'],
  ['ops-east', 'L2'],
] as const;
const KEPT = { fraction: 1, message: 'scanned 10 of 10 files' };

type View = { status: string; tasks: Record<string, { status: string; progress?: Record<string, unknown> }> };

const nats = useUsersNats();
const { procs, as } = nats;
let dir = '';
let engineLog = '';
let runId = '';

describe.skipIf(noNats)("people's users read runs over NATS (docs/users.md, docs/handlers.md#progress)", () => {
  let watched: Subscription | undefined;
  /** carol's message gets on the log, by their request bodies: a follower's poll asks the same twice. */
  const carolGets = new Map<string, number>();

  beforeAll(async () => {
    dir = tempDir('lf-nats-people-reads-');
    writeFileSync(join(dir, 'archive-scan.yaml'), WORKFLOW);
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(join(dir, 'release')));
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ folder: scanFolder(dir) }));
    await nats.start(dir, USERS);
    const deployed = await as('engine', ['deploy', 'archive-scan.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine = spawnCli(
      ['--nats', nats.url('engine'), 'engine', '--users', 'users.yaml', '--handlers', 'scan-handlers.mjs'],
      { cwd: dir },
    );
    engine.stderr!.on('data', (d) => (engineLog += d));
    procs.push(engine);
    // The engine user sees the requests people make of the log (it may subscribe to anything).
    watched = (await nats.admin().store.connection()).subscribe('$JS.API.STREAM.MSG.GET.LF_EVENTS', {
      callback: (_err, m: Msg) => {
        if (m.reply?.startsWith('_INBOX_carol.')) carolGets.set(m.string(), (carolGets.get(m.string()) ?? 0) + 1);
      },
    });
  }, 60_000);
  afterAll(() => watched?.unsubscribe());

  it('carol (L1) starts a run with --input-file and waits on it: her status shows no live value, her wait the kept one', async () => {
    const started = await as('carol', ['start', 'archive-scan', '--input-file', 'input.json']);
    expect(started.code, started.stderr + engineLog).toBe(0);
    runId = started.stdout.trim();
    // Held at 40%: running, and carol's user may not read LF_PROGRESS, so no live value (the engine user's shows one).
    const running = await waitFor(
      'the scan to run',
      async () => {
        const r = await as('carol', ['status', runId, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const v = JSON.parse(r.stdout) as View;
        return v.tasks.scan?.status === 'IN_PROGRESS' ? v : null;
      },
      { timeout: 30_000, detail: () => engineLog },
    );
    expect(running.tasks.scan!.progress).toBeUndefined();
    const waiting = as('carol', ['wait', runId, '--json', '--timeout', '60s']);
    // Her wait follows the log by gets (no consumer): released once it asks for the run's next commit again.
    carolGets.clear();
    await waitFor('carol to poll for the next commit', () => [...carolGets.values()].some((n) => n >= 2), {
      timeout: 30_000,
    });
    writeFileSync(join(dir, 'release'), '');
    const waited = await waiting;
    expect(waited.code, waited.stderr + engineLog).toBe(0);
    expect(waited.stderr).toBe('');
    const view = JSON.parse(waited.stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.scan!.progress).toMatchObject(KEPT);
  }, 90_000);

  it.each(['carol', 'ops-east'])(
    '%s reads the run as the engine user does: status, history, list, stats, the kept progress with them',
    async (who) => {
      expect(runId, 'the run of the test before').not.toBe('');
      const [mine, engines] = await Promise.all([
        as(who, ['status', runId, '--json']),
        as('engine', ['status', runId, '--json']),
      ]);
      expect(mine.code, mine.stderr).toBe(0);
      expect(JSON.parse(mine.stdout)).toEqual(JSON.parse(engines.stdout));
      expect((JSON.parse(mine.stdout) as View).tasks.scan!.progress).toMatchObject(KEPT);

      const status = await as(who, ['status', runId]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/scan\s+COMPLETED\s+attempts 1 {2}█{20} 100% {2}scanned 10 of 10 files/);
      const history = await as(who, ['history', runId]);
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout).toMatch(/task\.completed +scan attempt 1 .*progress 100% scanned 10 of 10 files/);
      expect(history.stdout).toMatch(/again#12 attempt 1 .*progress 100% scanned 10 of 10 files {2}→ COMPLETED/);
      const [list, engineList] = await Promise.all([as(who, ['list', '--json']), as('engine', ['list', '--json'])]);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual(JSON.parse(engineList.stdout));
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ runId, status: 'COMPLETED' })]);
      const stats = await as(who, ['stats', 'archive-scan']);
      expect(stats.code, stats.stderr).toBe(0);
      expect(stats.stdout).toMatch(/failure_rate\s+0\.0%\s+0 of 1 completed or failed runs failed/);
    },
    60_000,
  );

  it('a person still may not write the streams, make a consumer on the log, read LF_PROGRESS or change the log', async () => {
    const url = new URL(nats.url('carol'));
    const nc = await connect({
      servers: url.host,
      user: 'carol',
      pass: 'pw-carol',
      inboxPrefix: '_INBOX_carol',
      maxReconnectAttempts: 0,
    });
    try {
      const refused = async (subject: string, body = '{}') => {
        try {
          await nc.request(subject, new TextEncoder().encode(body), { timeout: 2000 });
          return false;
        } catch (err) {
          return /permission/i.test(String(err));
        }
      };
      const attempts: [string, string?][] = [
        [`lf.events.archive-scan.${runId}`],
        [`lf.tasks.default.scan`],
        ['$KV.LF_PROGRESS.x.scan'],
        ['$KV.LF_RUNS_INDEX.x'],
        [
          '$JS.API.CONSUMER.CREATE.LF_EVENTS',
          '{"stream_name":"LF_EVENTS","config":{"deliver_subject":"lf.approvals.r.t.alice"}}',
        ],
        ['$JS.API.CONSUMER.CREATE.KV_LF_PROGRESS'],
        ['$JS.API.DIRECT.GET.KV_LF_PROGRESS', '{"seq":1}'],
        ['$JS.API.STREAM.MSG.GET.KV_LF_PROGRESS', '{"seq":1}'],
        ['$JS.API.STREAM.UPDATE.LF_EVENTS', '{"name":"LF_EVENTS","subjects":["lf.events.>"]}'],
        ['$JS.API.STREAM.PURGE.LF_EVENTS'],
        ['$JS.API.STREAM.MSG.DELETE.LF_EVENTS', '{"seq":1}'],
        ['$JS.API.STREAM.DELETE.LF_EVENTS'],
      ];
      for (const [subject, body] of attempts) expect(await refused(subject, body), subject).toBe(true);
      // What it reads by: granted.
      for (const subject of ['$JS.API.INFO', '$JS.API.STREAM.INFO.LF_EVENTS'])
        expect(await refused(subject), subject).toBe(false);
    } finally {
      await nc.close();
    }
    // And the run is as the engine left it.
    const r = await as('engine', ['status', runId, '--json']);
    expect((JSON.parse(r.stdout) as View).status).toBe('COMPLETED');
  }, 60_000);
});
