/**
 * docs/retention.md: a process without LF_DATA_KEY is refused archiving sealed runs and moves nothing. `serve`'s
 * rounds (archivalRounds, what serve and the engines tick) say that refusal once, not at every round, say when the
 * rounds archive again, and then move what is due. The sealed run is made as the page says (`run … --secrets`).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRing, encryptedStore } from '../../src/encryption/index.js';
import { archivalRounds } from '../../src/runs/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { INVOICE_YAML } from './docs-scenario.js';

describe("serve's archive rounds without the data key", () => {
  it('say the refusal once over many rounds, then archive once the key is there', async () => {
    const dir = tempDir('lf-keyless-rounds-');
    writeFileSync(join(dir, 'brief.yaml'), INVOICE_YAML.replace('retention: 30d', 'retention: 1s'));
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
    const key = randomBytes(32).toString('base64');
    const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--secrets', 's.yaml'], { cwd: dir, env, stdin: key });
    expect(set.code, set.stderr).toBe(0);
    const ran = await cli(['run', 'brief.yaml', '--amount', '7', '--secrets', 's.yaml', '--json'], { cwd: dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    const { runId } = JSON.parse(ran.stdout) as { runId: string };

    const file = new FileEventStore(join(dir, '.ledgerflow'));
    const said: string[] = [];
    const at = (n: number) => new Date(Date.now() + 60_000 + n * 1000);
    try {
      const keyless = archivalRounds(encryptedStore(file, new KeyRing(async () => undefined)), {
        say: (line) => said.push(line),
        everyMs: 1000,
      });
      for (let i = 0; i < 4; i++) await keyless(at(i * 2));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^archive: .*LF_DATA_KEY.*trying again at each round/);
      expect(await file.runIds()).toContain(runId); // still live

      const keyed = archivalRounds(
        encryptedStore(file, new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined))),
        {
          say: (line) => said.push(line),
          everyMs: 1000,
        },
      );
      await keyed(at(10));
      expect(said.at(-1)).toBe('archived 1 settled run past their retention');
      expect(await file.runIds()).not.toContain(runId);
    } finally {
      await file.close();
    }
  });
});
