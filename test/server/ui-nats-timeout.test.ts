/**
 * `ledgerflow ui --nats` before its engines and with a server slow to answer.
 * CI at b82651f, both cores loaded: GET /api/definitions/refund answered
 * `LF_INTERNAL` ("internal error: see the server log") in
 * editor-nats.test.ts, whose UI can ask before the engine it just spawned
 * has made the run index's bucket; watching a bucket not made yet threw
 * "stream not found". No engine runs here, so the UI always asks first.
 * And a busy server is not a bug of ours, nor an answer a user can act on:
 * the API says the server did not answer (503 `LF_NATS_TIMEOUT`, with
 * Retry-After), and the same request answers once the server does. The delay
 * is injected with a proxy that holds back the server's replies (bytes
 * delayed, never dropped), so a JetStream request of the UI's times out as on
 * a loaded machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { NATS_CONF, startGatedProxy, type GatedProxy } from '../helpers/nats.js';
import { noNats, useCluster, type Cluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { REFUND_V1 } from './editor-docs.js';

const dir = tempDir('lf-ui-nats-timeout-');
const conf = join(dir, 'nats.conf');
// deploy connects without credentials: the engine user (no_auth_user), as ui-nats.test.ts does.
writeFileSync(conf, `${readFileSync(NATS_CONF, 'utf8')}\nno_auth_user: engine\n`);
let nats: Cluster;
let proxy: GatedProxy;
let ui: UiProcess;
let engine: Record<string, string>;

const definition = () => fetch(`${ui.base}/api/definitions/refund`, { headers: engine });

describe.skipIf(noNats)('ledgerflow ui --nats, the server slow to answer', () => {
  nats = useCluster({ config: conf });
  beforeAll(async () => {
    writeFileSync(join(dir, 'refund.yaml'), REFUND_V1);
    const deployed = await cli(['--nats', nats.url, 'deploy', 'refund.yaml'], { cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    proxy = await startGatedProxy(Number(new URL(nats.url).port));
    ui = await startUiProcess(['--nats', proxy.url.replace('nats://', 'nats://engine:engine-dev-password@')], [], {
      cwd: dir,
    });
    const r = await fetch(`${ui.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'engine', password: 'engine-dev-password' }),
    });
    expect(r.status).toBe(200);
    engine = { cookie: r.headers.get('set-cookie')!.split(';')[0]! };
  }, 60_000);
  afterAll(async () => {
    proxy?.release();
    await ui?.stop();
    await proxy?.close();
  });

  it('shows a deployed definition before any engine has run (no run index bucket yet), as `deploy` sent it', async () => {
    const r = await definition();
    expect(r.status, (await r.clone().text()) + ui.stderr()).toBe(200);
    expect(await r.json()).toMatchObject({ source: 'deployed', deployedText: true, yaml: REFUND_V1 });
  });

  it("answers every page's reads before any engine has run, none with an internal error", async () => {
    const answers: string[] = [];
    for (const path of [
      '/api/runs',
      '/api/definitions',
      '/api/definitions/refund/stats',
      '/api/definitions/refund/verdict',
      '/api/map',
      '/api/schedules',
      '/api/triggers',
      '/api/workers',
      '/api/agents',
      '/api/breakers',
      '/api/metrics/summary',
      '/api/templates',
    ]) {
      const r = await fetch(`${ui.base}${path}`, { headers: engine });
      answers.push(`${path} ${r.status} ${r.status === 200 ? '' : await r.text()}`);
    }
    expect(
      answers.filter((a) => / 5\d\d /.test(a)),
      ui.stderr(),
    ).toEqual([]);
  });

  it('answers 503 LF_NATS_TIMEOUT with Retry-After, not an internal error, and the definition once the server answers again', async () => {
    proxy.hold();
    const slow = await definition();
    const body = (await slow.json()) as { error: { code: string; message: string } };
    expect(slow.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe('LF_NATS_TIMEOUT');
    expect(body.error.message).toMatch(/did not answer in time.*try again/i);
    expect(slow.headers.get('retry-after')).toBe('2');

    proxy.release();
    const again = await waitFor(
      'the definition once NATS answers',
      async () => {
        const r = await definition();
        return r.status === 200 ? ((await r.json()) as { yaml: string }) : null;
      },
      { timeout: 30_000, detail: () => ui.stderr() },
    );
    expect(again.yaml).toBe(REFUND_V1);
  }, 60_000);
});
