/**
 * docs/language.md "Large payloads" on a nats-server whose users come from the users file (`users nats-conf`), read as
 * the people who read runs (docs/users.md: L0–L2 read the log by message gets, never a consumer): carol (L1) starts
 * the page's export workflow, and she and an L2 follow the page's commands over NATS as themselves: `history` shows
 * the reference, `blob get` gives the body (and `--output` writes it), `replay` checks it. Their users read the bucket
 * by gets (each chunk of the object a request), and still may not make a consumer on it nor put an object.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { useUsersNats } from '../helpers/authority.js';
import { ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;

type Ref = { 'lf:blob': { digest: string; size: number } };

const nats = useUsersNats();
const { procs, as } = nats;
let dir = '';
let engineLog = '';

describe.skipIf(noNats)("people's users read large payloads over NATS (docs/language.md, docs/users.md)", () => {
  let runId = '';
  let ref: Ref['lf:blob'];

  beforeAll(async () => {
    dir = tempDir('lf-nats-people-blobs-');
    writeFileSync(join(dir, 'export.yaml'), workflow);
    writeFileSync(join(dir, 'export.mjs'), handlers);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['carol', 'L1'],
      ['ops-east', 'L2'],
    ]);
    const deployed = await as('engine', ['deploy', 'export.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine = spawnCli(
      ['--nats', nats.url('engine'), 'engine', '--users', 'users.yaml', '--handlers', 'export.mjs'],
      { cwd: dir },
    );
    engine.stderr!.on('data', (d) => (engineLog += d));
    procs.push(engine);
    const started = await as('carol', ['start', 'export_report']);
    expect(started.code, started.stderr + engineLog).toBe(0);
    runId = started.stdout.trim();
    const waited = await as('carol', ['wait', runId, '--timeout', '60s', '--json']);
    expect(waited.code, waited.stderr + engineLog).toBe(0);
    const view = JSON.parse(waited.stdout) as { status: string; tasks: Record<string, { output: unknown }> };
    expect(view.status).toBe('COMPLETED');
    ref = (view.tasks.export_rows!.output as Ref)['lf:blob'];
    expect(ref.size).toBeGreaterThan(5_000_000);
  }, 90_000);

  it('carol (L1) and an L2 see the reference in history, get the body with blob get (stdout and --output), and replay checks it', async () => {
    const h = await as('carol', ['history', runId]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/export_rows attempt 1 output \[blob 5\.\d MiB sha256:[0-9a-f]{4}/);
    for (const user of ['carol', 'ops-east']) {
      const got = await as(user, ['blob', 'get', ref.digest]);
      expect(got.code, `${user}: ${got.stderr}`).toBe(0);
      const body = JSON.parse(got.stdout) as { summary: unknown; rows: unknown[] };
      expect(body.summary).toEqual({ status: 'complete', rows: 50_000 });
      expect(body.rows).toHaveLength(50_000);
    }
    const out = join(dir, 'rows.json');
    const written = await as('carol', ['blob', 'get', ref.digest, '--output', out]);
    expect(written.code, written.stderr).toBe(0);
    expect(readFileSync(out).length).toBe(ref.size);
    const replayed = await as('carol', ['replay', runId]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/1 large payload matches its digest/);
  }, 60_000);

  it('their users still may not make a consumer on the bucket, nor put an object in it', async () => {
    const nc = await connect({ servers: new URL(nats.url('carol')).host, user: 'carol', pass: 'pw-carol' });
    try {
      const refused = async (subject: string, body: unknown) => {
        const r = await nc.request(subject, JSON.stringify(body), { timeout: 2000 }).then(
          () => 'answered',
          (err: unknown) => String(err),
        );
        expect(r, subject).toMatch(/permission|Permissions Violation|timeout|TIMEOUT/i);
      };
      await refused('$JS.API.CONSUMER.CREATE.OBJ_LF_BLOBS', {
        stream_name: 'OBJ_LF_BLOBS',
        config: { deliver_subject: '_INBOX_carol.x', ack_policy: 'none' },
      });
      await refused(`$O.LF_BLOBS.C.intruder`, 'x');
    } finally {
      await nc.close();
    }
  });
});
