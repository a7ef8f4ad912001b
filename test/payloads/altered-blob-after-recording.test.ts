/**
 * The embedded store's side of altered-blob-after-recording-nats.test.ts: a signal ends a WAIT followed by a task
 * whose input reads a field of a large payload whose file under `<store>/blobs/` was changed after it was written.
 * docs/troubleshooting.md (LF_BLOB_ALTERED): the signal stands (`signal` says it was recorded, with its event, then
 * exits 1 with the error and its fix), and once the fix is made (the body put back from a copy of the store with
 * `blob get … --output <file>`) `resume` carries the run on to the end. The CLI as a user runs it.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { FileBlobStore } from '../../src/store/index.js';

const FLOW = `workflow:
  id: altered_next_input
  version: 1
  handlers: ./export.mjs
  input:
    required: [nonce]
  payloads:
    inline_limit: 64KiB
  tasks:
    - id: export_rows
      type: SIMPLE
      handler: exportRows
      input: { nonce: "\${workflow.input.nonce}" }
    - id: ready
      type: WAIT
      depends_on: [export_rows]
      event: release
    - id: publish
      type: SIMPLE
      depends_on: [ready]
      handler: publish
      input: { status: "\${export_rows.output.summary.status}" }
`;

const HANDLERS = `export default {
  async exportRows(input) {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
    return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
  },
  async publish(input) { return { published: input.status }; },
};
`;

type Ref = { 'lf:blob': { digest: string } };
type View = { status: string; tasks: Record<string, { status: string; output?: unknown }> };

describe('a signal recorded, then its run unable to go on for a payload changed in the embedded store', () => {
  it('`signal` says it was recorded and exits 1 with the fix; once the body is back, `resume` completes the run', async () => {
    const dir = tempDir('lf-altered-after-');
    writeFileSync(join(dir, 'flow.yaml'), FLOW);
    writeFileSync(join(dir, 'export.mjs'), HANDLERS);
    const lf = (...args: string[]) => cli([...args, '--store', 'store'], { cwd: dir });
    const ran = await lf('run', 'flow.yaml', '--nonce', 'n1', '--id', 'e1', '--json');
    expect(ran.code, ran.stderr).toBe(3); // waiting for the signal
    const { digest } = ((JSON.parse(ran.stdout) as View).tasks.export_rows!.output as Ref)['lf:blob'];
    const file = new FileBlobStore(join(dir, 'store', 'blobs')).pathOf(digest);
    cpSync(join(dir, 'store'), join(dir, 'copy'), { recursive: true });
    const body = readFileSync(file);
    body[body.indexOf('"status":"complete"') + '"status":"comp'.length]! ^= 1;
    writeFileSync(file, body);

    const sent = await lf('signal', 'e1', 'release', '--data', '{"by":"alice"}');
    expect(sent.code, sent.stdout + sent.stderr).toBe(1);
    const history = JSON.parse((await lf('history', 'e1', '--json')).stdout) as { type: string; seq: number }[];
    const signal = history.find((e) => e.type === 'signal.received');
    expect(signal).toBeDefined();
    expect(sent.stdout).toContain(`recorded for run e1`);
    expect(sent.stdout).toContain(`(event ${signal!.seq})`);
    expect(sent.stderr).toContain(`the payload ${digest}`);
    expect(sent.stderr).toContain(`ledgerflow blob get ${digest} --store <copy> --output ${file}`);

    const fixed = await cli(['blob', 'get', digest, '--store', 'copy', '--output', file], { cwd: dir });
    expect(fixed.code, fixed.stderr).toBe(0);
    const resumed = await lf('resume', 'e1');
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const done = JSON.parse((await lf('status', 'e1', '--json')).stdout) as View;
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish!.output).toEqual({ published: 'complete' });
  });
});
