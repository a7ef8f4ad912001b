/**
 * On NATS, a worker's output too large for a message (5 MB, over half the server's max_payload) is put in the LF_BLOBS
 * Object Store bucket in chunks and reported as a reference; the engine reads a field of it for a template and a
 * DECISION, and another worker attempt is handed the whole value, read back from the bucket. No message on any
 * subject but the bucket's chunks carries the body. Real nats-server, the production user permissions of a worker.
 */
import { describe, expect, it } from 'vitest';
import type { Subscription } from '@nats-io/nats-core';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { isPayloadRef } from '../../src/events/index.js';
import { ObjectBlobStore } from '../../src/store/index.js';
import { Engine } from '../../src/local/index.js';
import { collectPayloads } from '../../src/executor/index.js';

const MB = 1024 * 1024;
const flow = def(`
workflow:
  id: big_output_nats
  version: 1
  tasks:
    - id: produce
      type: SIMPLE
      handler: produce
    - id: route
      type: DECISION
      depends_on: [produce]
      decision_param: "\${produce.output.status}"
      decision_cases:
        ok: { next: summarize }
        default: { next: complain }
    - id: summarize
      type: SIMPLE
      handler: summarize
      input: { status: "\${produce.output.status}", rows: "\${produce.output.rows}" }
    - id: complain
      type: SIMPLE
      handler: summarize
    - id: measure
      type: SIMPLE
      handler: measure
      depends_on: [summarize]
      input: { report: "\${produce.output}" }
    - id: excerpt
      type: SIMPLE
      handler: excerpt
      depends_on: [measure]
      input: { body: "\${produce.output.body}", status: "\${produce.output.status}" }
`);

const withInput = def(`
workflow:
  id: big_input_nats
  version: 1
  input:
    required: [doc]
  tasks:
    - id: read
      type: SIMPLE
      handler: summarize
      input: { title: "\${workflow.input.doc.title}", doc: "\${workflow.input.doc}" }
`);

describe.skipIf(noNats)('a 5 MB output on NATS', () => {
  const seen: Record<string, unknown> = {};
  const c = useCluster({
    engines: 1,
    deploy: [flow, withInput],
    handlers: {
      produce: async () => ({ status: 'ok', rows: 3, body: 'y'.repeat(5 * MB) }),
      summarize: async (input) => {
        seen.summarize = input;
        return { done: true };
      },
      measure: async (input) => {
        const report = input.report as { body: string; status: string };
        seen.measure = { length: report.body.length, status: report.status };
        return { length: report.body.length };
      },
      // A template that picks the large field out of the body: the attempt's input is as large, kept apart on its way.
      excerpt: async (input) => {
        seen.excerpt = { length: (input.body as string).length, status: input.status };
        return { ok: true };
      },
    },
  });

  it('goes through the blobs bucket, never whole on a message; templates and a DECISION read it', async () => {
    // Every message on the server, as it passes: the largest outside the bucket's chunks, and the largest chunk.
    const nc = await c.admin();
    let largestOutside = 0;
    let largestChunk = 0;
    const sniff: Subscription = nc.subscribe('>', {
      callback: (_err, m) => {
        if (m.subject.startsWith('$O.LF_BLOBS.C.')) largestChunk = Math.max(largestChunk, m.data.length);
        else largestOutside = Math.max(largestOutside, m.data.length);
      },
    });
    await nc.flush();
    const run = await c.client.start('big_output_nats', {});
    const done = await waitFor(
      'the run to complete',
      async () => {
        const s = await c.runs.status(run.runId);
        return (s?.status === 'COMPLETED' || s?.status === 'FAILED') && s;
      },
      { timeout: 60_000 },
    );
    sniff.unsubscribe();
    expect(done.status).toBe('COMPLETED');
    expect(seen.summarize).toEqual({ status: 'ok', rows: 3 });
    expect(seen.measure).toEqual({ length: 5 * MB, status: 'ok' });
    // The field a template picked out of the body reached the worker whole, though no message carried it (below).
    expect(seen.excerpt).toEqual({ length: 5 * MB, status: 'ok' });
    expect(largestOutside).toBeLessThan(MB);
    expect(largestChunk).toBeGreaterThan(0);
    expect(largestChunk).toBeLessThanOrEqual(128 * 1024);
    const events = await c.client.store.read(run.runId);
    const output = (
      events.find((e) => e.type === 'task.completed' && e.data.task === 'produce')!.data as {
        output: unknown;
      }
    ).output;
    expect(isPayloadRef(output)).toBe(true);
    const blobs = new ObjectBlobStore(async () => nc);
    const digest = (output as { 'lf:blob': { digest: string } })['lf:blob'].digest;
    expect(await blobs.has(digest)).toBe(true);
  }, 90_000);

  it("a start's input field over the inline limit is kept apart by the engine that records it; the worker reads it back", async () => {
    const doc = { title: 'annual', body: 'q'.repeat(400 * 1024) };
    const run = await c.client.start('big_input_nats', { doc });
    await waitFor('the run to complete', async () => (await c.runs.status(run.runId))?.status === 'COMPLETED', {
      timeout: 60_000,
    });
    expect(seen.summarize).toEqual({ title: 'annual', doc });
    const started = (await c.client.store.read(run.runId))[0]!.data as { input: { doc: unknown } };
    expect(isPayloadRef(started.input.doc)).toBe(true);
  }, 90_000);

  it('replay on NATS reads the body from the bucket and checks it; gc keeps it and deletes what no run refers to', async () => {
    const run = await c.client.start('big_output_nats', {});
    await waitFor('the run to complete', async () => (await c.runs.status(run.runId))?.status === 'COMPLETED', {
      timeout: 60_000,
    });
    const store = c.client.store;
    const replayed = await new Engine({ store }).replay(run.runId);
    expect(replayed.divergence).toBeNull();
    expect(replayed.payloads).toEqual({ checked: 1, problems: [] });
    const stray = (await store.blobs().put(Buffer.from('{"stray":true}'), 'application/json'))['lf:blob'].digest;
    // Stored just now: within the grace period it is kept; with none, it goes, and what runs refer to stays.
    expect((await collectPayloads(store)).young).toBeGreaterThanOrEqual(1);
    const gc = await collectPayloads(store, { graceMs: 0 });
    // The stray goes, and so may the body an attempt's input was handed as (no event refers to it; kept for the grace).
    expect(gc.collected.map((b) => b.digest)).toContain(stray);
    expect(gc.kept).toBeGreaterThanOrEqual(1);
    expect(await store.blobs().has(stray)).toBe(false);
    const again = await new Engine({ store }).replay(run.runId);
    expect(again.payloads).toEqual({ checked: 1, problems: [] });
  }, 90_000);
});
