/**
 * `payloads.inline_limit`: validated like every field (file:line:col, the fix named), and obeyed: on the memory store a
 * run input's large field and a signal's data over it are kept apart too, and read by templates as if inline; a value
 * within it stays inline. A handler's output may not use the reserved key.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { isPayloadRef } from '../../src/events/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';

const withLimit = (limit: string) => `workflow:
  id: limited
  payloads:
    inline_limit: ${limit}
  tasks:
    - { id: a, type: SIMPLE, handler: a }
`;

describe('payloads.inline_limit in a definition', () => {
  it('takes a size from 1KiB to 16MiB; anything else is an error at its line and column', () => {
    for (const ok of ['1KiB', '64KiB', '1MiB', '16MiB', '2048']) {
      const { definition, diagnostics } = parseDefinition(withLimit(ok), 'limited.yaml');
      expect(
        diagnostics.filter((d) => d.severity === 'error'),
        ok,
      ).toEqual([]);
      expect(definition?.inlineLimit).toBeGreaterThanOrEqual(1024);
    }
    for (const bad of ['10', '32MiB', 'lots', '-1', '0']) {
      const { definition, diagnostics } = parseDefinition(withLimit(bad), 'limited.yaml');
      expect(definition, bad).toBeFalsy();
      expect(diagnostics).toContainEqual(
        expect.objectContaining({
          severity: 'error',
          line: 4,
          col: 19,
          message: expect.stringContaining('expected a size from 1KiB to 16MiB'),
        }),
      );
    }
  });

  it('an unknown key under payloads is named; without payloads the definition hashes as before', () => {
    const { diagnostics } = parseDefinition(withLimit('64KiB').replace('inline_limit', 'inline'), 'limited.yaml');
    expect(diagnostics.map((d) => d.message).join('\n')).toMatch(/inline/);
    const plain = def('workflow:\n  id: limited\n  tasks:\n    - { id: a, type: SIMPLE, handler: a }\n');
    expect(plain.inlineLimit).toBeUndefined();
    expect(Object.keys(plain)).not.toContain('inlineLimit');
  });
});

describe('inputs and signals over the limit, on the memory store', () => {
  const flow = def(`
workflow:
  id: inputs_and_signals
  payloads: { inline_limit: 1KiB }
  input:
    required: [doc, name]
  tasks:
    - id: first
      type: SIMPLE
      handler: echo
      input: { title: "\${workflow.input.doc.title}", name: "\${workflow.input.name}", doc: "\${workflow.input.doc}" }
    - id: wait_for_more
      type: WAIT
      depends_on: [first]
      event: more
    - id: last
      type: SIMPLE
      handler: echo
      depends_on: [wait_for_more]
      input: { size: "\${wait_for_more.output.size}", text: "got \${wait_for_more.output.size}" }
`);

  it('keeps the large input field and signal data apart; templates read them as inline', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const seen: Record<string, unknown>[] = [];
    const handlers = {
      echo: async (input: Record<string, unknown>) => {
        seen.push(input);
        return { ok: true };
      },
    };
    const doc = { title: 'annual', body: 'z'.repeat(20_000) };
    const runId = await engine.start(flow, { doc, name: 'small' }, { handlers });
    expect((await engine.drive(runId, { handlers })).status).toBe('WAITING');
    await engine.signal(runId, 'more', { data: { size: 3, padding: 'p'.repeat(5_000) } });
    const view = await engine.drive(runId, { handlers });
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual([
      { title: 'annual', name: 'small', doc },
      { size: 3, text: 'got 3' },
    ]);
    const events = await store.read(runId);
    const started = events[0]!.data as { input: Record<string, unknown> };
    expect(isPayloadRef(started.input.doc)).toBe(true);
    expect(started.input.name).toBe('small');
    const signal = events.find((e) => e.type === 'signal.received')!.data as { data: unknown };
    expect(isPayloadRef(signal.data)).toBe(true);
    expect((await engine.replay(runId)).payloads).toEqual({ checked: 2, problems: [] });
  });

  it("refuses an output that uses the references' own key, at once", async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const view = await engine.run(
      def('workflow:\n  id: sneaky\n  tasks:\n    - { id: a, type: SIMPLE, handler: a }\n'),
      {},
      { handlers: { a: async () => ({ nested: { 'lf:blob': { digest: 'sha256:00', size: 1 } } }) } },
    );
    expect(view.status).toBe('FAILED');
    expect(view.tasks.a).toMatchObject({ attempts: 1, error: { code: 'LF_PAYLOAD_KEY_RESERVED' } });
  });
});

describe('a value kept apart is stored byte for byte', () => {
  it('its body is the JSON of the value, astral characters across the chunk boundaries too', async () => {
    const { externalize, readBlob } = await import('../../src/executor/index.js');
    const store = new MemoryEventStore();
    // 😀 is a surrogate pair; the odd prefix puts one across every 1 Mi-character boundary sooner or later.
    const value = { text: `a${'😀'.repeat(600_000)}` };
    const text = JSON.stringify(value);
    const ref = (await externalize(value, text, store.blobs(), 1024)) as {
      'lf:blob': { digest: string; size: number };
    };
    expect(isPayloadRef(ref)).toBe(true);
    expect(ref['lf:blob'].size).toBe(Buffer.byteLength(text));
    const body = await readBlob(store.blobs(), ref['lf:blob'].digest);
    expect(new TextDecoder().decode(body!)).toBe(text);
  });
});
