/**
 * docs/asyncapi.yaml is a contract: its payload schemas are the zod schemas
 * engines and workers parse with (regenerated here and compared), its
 * examples fit them, and its subjects, streams and buckets are the ones the
 * code uses.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ATTEMPTS_BUCKET, STREAMS, subjects, taskStream, wireJsonSchemas } from '../../src/cluster/index.js';
import { AttemptLedger } from '../../src/cluster/transport/attempts.js';
import {
  DEFINITIONS_BUCKET,
  ENGINE_CONSUMERS,
  levelConsumerName,
  taskLevelSubjects,
  taskSubjectParts,
  workerConsumerName,
} from '../../src/cluster/transport/subjects.js';
import { DEFAULT_SNAPSHOT_BUCKET } from '../../src/store/index.js';
import { ASYNCAPI_FILE } from '../../scripts/wire-schemas.js';

type Obj = Record<string, any>;
const doc = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as Obj;
// The patterns zod writes beside `format` check the same thing, so formats need no plugin.
const ajv = new Ajv({ allErrors: true, validateFormats: false });

/** Follows a local `$ref` ('#/a/b') in the document. */
function deref(node: Obj): Obj {
  if (typeof node?.$ref !== 'string') return node;
  const target = (node.$ref as string)
    .slice(2)
    .split('/')
    .reduce<any>((at, key) => at?.[key], doc);
  if (target === undefined) throw new Error(`${node.$ref} points at nothing`);
  return deref(target);
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) refsIn(v, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node))
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
  }
  return out;
}

describe('docs/asyncapi.yaml', () => {
  it('holds the payload schemas generated from the zod schemas the engine validates with', () => {
    const generated = wireJsonSchemas();
    const inDoc = doc.components.schemas as Obj;
    const stale = [...new Set([...Object.keys(generated), ...Object.keys(inDoc)])].filter(
      (name) => JSON.stringify((generated as Obj)[name]) !== JSON.stringify(inDoc[name]),
    );
    expect(
      stale,
      `docs/asyncapi.yaml: the schemas ${stale.join(', ')} differ from the zod schemas; run \`npm run docs:wire\` and commit the result`,
    ).toEqual([]);
  });

  it('resolves every $ref, and uses every schema', () => {
    for (const ref of refsIn(doc)) expect(() => deref({ $ref: ref }), ref).not.toThrow();
    const used = new Set(
      refsIn(doc.components.messages)
        .filter((r) => r.startsWith('#/components/schemas/'))
        .map((r) => r.split('/').at(-1)),
    );
    expect([...used].sort()).toEqual(Object.keys(wireJsonSchemas()).sort());
  });

  it('gives examples that fit their message schemas', () => {
    let checked = 0;
    for (const [name, message] of Object.entries(doc.components.messages as Obj)) {
      const payload = ajv.compile(deref(message.payload));
      const headers = message.headers ? ajv.compile(message.headers) : null;
      for (const example of message.examples ?? []) {
        expect(payload(example.payload), `${name}/${example.name}: ${ajv.errorsText(payload.errors)}`).toBe(true);
        if (example.headers) expect(headers?.(example.headers), `${name}/${example.name} headers`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('names the subjects, streams, consumers and buckets the code uses', () => {
    const channel = (id: string) => doc.channels[id] as Obj;
    // Placeholders that pass the code's token check, then put back as the document's parameters.
    const asDoc = (subject: string) => subject.replace(/P_([a-zA-Z]+)/g, '{$1}');
    expect(channel('runLog').address).toBe('lf.events.{workflowId}.{runId}');
    expect(channel('inputs').address).toBe(asDoc(subjects.input('P_sender', 'P_runId')));
    expect(channel('reports').address).toBe(asDoc(subjects.report('P_sender', 'P_queue', 'P_runId')));
    expect(channel('reports')['x-stream']).toBe(STREAMS.inputs.name);
    expect(channel('reports')['x-consumers']).toEqual([ENGINE_CONSUMERS.inputs]);
    expect(channel('tasks').address).toBe(asDoc(subjects.task('P_queue', 'P_handler')));
    expect(channel('timers').address).toBe(asDoc(subjects.timer('P_runId')));
    expect(channel('approvals').address).toBe(asDoc(subjects.approval('P_runId', 'P_taskId', 'P_user')));
    expect(channel('triggers').address).toBe(asDoc(subjects.trigger('P_eventType')));
    expect(channel('signals').address).toBe(asDoc(subjects.signal('P_sender', 'P_runId')));
    expect(channel('signalVerdicts').address).toBe(asDoc(subjects.signalVerdict('P_sender', 'P_runId')));
    expect(channel('control').address).toBe(asDoc(subjects.control('P_sender', 'P_runId')));
    expect(channel('controlVerdicts').address).toBe(asDoc(subjects.controlVerdict('P_sender', 'P_runId')));
    expect(channel('deadLetters').address).toBe(asDoc(subjects.dlq('P_kind')));
    expect(channel('workerDeadLetters').address).toBe(asDoc(subjects.workerDlq('P_user')));
    expect(channel('workerDeadLetters')['x-stream']).toBe(STREAMS.workerDlq.name);
    expect(channel('presence').address).toBe(asDoc(subjects.presence('P_sender', 'P_queue')));
    expect(channel('presenceWho').address).toBe(subjects.presenceWho);

    expect(channel('runLog')['x-stream']).toBe('LF_EVENTS');
    // Each queue its own stream: LF_TASKS_{queue} on lf.q.{queue}.*, the channel's address with the handler a wildcard.
    expect(channel('tasks')['x-stream']).toBe(asDoc(taskStream('P_queue').name));
    expect(taskStream('P_queue').subjects.map(asDoc)).toEqual([channel('tasks').address.replace('{handler}', '*')]);
    const byName: Obj = {
      inputs: 'inputs',
      timers: 'timers',
      approvals: 'approvals',
      triggers: 'triggers',
      signals: 'signals',
      control: 'control',
      dlq: 'deadLetters',
      workerDlq: 'workerDeadLetters',
    };
    // A person's requests: one stream, four channels, each subject one token (the sender) below its own.
    expect(channel('starts').address).toBe(asDoc(subjects.start('P_sender')));
    expect(channel('deploys').address).toBe(asDoc(subjects.deploy('P_sender')));
    expect(channel('startVerdicts').address).toBe(asDoc(subjects.startVerdict('P_sender', 'P_request')));
    expect(channel('deployVerdicts').address).toBe(asDoc(subjects.deployVerdict('P_sender', 'P_request')));
    expect(channel('limits').address).toBe(asDoc(subjects.limits('P_sender')));
    expect(channel('limitsVerdicts').address).toBe(asDoc(subjects.limitsVerdict('P_sender', 'P_request')));
    expect(channel('upkeep').address).toBe(asDoc(subjects.upkeep('P_sender')));
    expect(channel('upkeepVerdicts').address).toBe(asDoc(subjects.upkeepVerdict('P_sender', 'P_request')));
    expect(STREAMS.requests.subjects).toEqual(
      [channel('starts').address, channel('deploys').address, channel('limits').address, channel('upkeep').address].map(
        (a: string) => a.replace(/\{[a-zA-Z]+\}/g, '*'),
      ),
    );
    for (const id of ['starts', 'deploys', 'limits', 'upkeep']) {
      expect(channel(id)['x-stream']).toBe(STREAMS.requests.name);
      expect(channel(id)['x-consumers']).toEqual([ENGINE_CONSUMERS.requests]);
    }
    for (const [key, s] of Object.entries(STREAMS).filter(([k]) => k !== 'requests')) {
      expect(channel(byName[key])['x-stream'], key).toBe(s.name);
      // The dead-letter streams take one more token each (lf.dlq.<kind>, lf.dlq.tasks.<user>), apart from each other; the others everything below theirs.
      const one = key === 'dlq' || key === 'workerDlq';
      expect(s.subjects).toEqual([`${channel(byName[key]).address.split('.{')[0]}.${one ? '*' : '>'}`]);
    }
    expect(channel('inputs')['x-consumers']).toEqual([ENGINE_CONSUMERS.inputs]);
    expect(channel('timers')['x-consumers']).toEqual([ENGINE_CONSUMERS.timers]);
    expect(channel('approvals')['x-consumers']).toEqual([ENGINE_CONSUMERS.approvals]);
    expect(channel('triggers')['x-consumers']).toEqual([ENGINE_CONSUMERS.triggers]);
    expect(channel('signals')['x-consumers']).toEqual([ENGINE_CONSUMERS.signals]);
    expect(channel('control')['x-consumers']).toEqual([ENGINE_CONSUMERS.control]);
    expect(channel('tasks')['x-consumers']).toEqual([asDoc(workerConsumerName('P_queue', 'P_handler'))]);
    // Priority levels: the same stream, its levels' subjects, one consumer per level; the default level is `tasks` itself.
    expect(channel('taskLevels')['x-stream']).toBe(asDoc(taskStream('P_queue').name));
    expect(subjects.taskAt('queue', 'handler', 7)).toBe(
      channel('taskLevels')
        .address.replace('{queue}', 'queue')
        .replace('{handler}', 'handler')
        .replace('{level}', '07'),
    );
    expect(subjects.taskAt('queue', 'handler', 50)).toBe(subjects.task('queue', 'handler'));
    expect(asDoc(taskLevelSubjects('P_queue'))).toBe(
      channel('taskLevels').address.replace('{handler}', '*').replace('p{level}', '*'),
    );
    expect(channel('taskLevels')['x-consumers']).toEqual([
      levelConsumerName('P_queue', 'P_handler', 7)
        .replace('p07', 'p{level}')
        .replace('P_queue', '{queue}')
        .replace('P_handler', '{handler}'),
    ]);
    expect(taskSubjectParts(subjects.taskAt('queue', 'handler', 7))).toEqual({
      queue: 'queue',
      handler: 'handler',
      priority: 7,
    });
    expect(taskSubjectParts(subjects.taskAt('queue', 'handler', 50))).toEqual({ queue: 'queue', handler: 'handler' });
    // No handler name can make a level's consumer name (worker consumers start w_).
    expect(levelConsumerName('queue', 'x_p70', 50)).not.toBe(levelConsumerName('queue', 'x', 70));
    expect(() => subjects.taskAt('queue', 'handler', 100)).toThrow(/0 to 99/);
    expect(subjects.levelNotice('queue', 'handler', 90)).toBe(
      channel('levelNotices')
        .address.replace('{queue}', 'queue')
        .replace('{handler}', 'handler')
        .replace('{level}', '90'),
    );

    expect(channel('definitionBodies').address).toBe(`$KV.${DEFINITIONS_BUCKET}.def.{hash}`);
    expect(channel('attempts').address).toBe(`$KV.${ATTEMPTS_BUCKET}.{queue}.{runId}.{taskId}.{attempt}.{digest}`);
    expect(AttemptLedger.key('P_queue', 'P_runId', 'P_taskId', 1, 0, 'a-token').split('.')).toHaveLength(5);
    expect(channel('snapshots').address).toBe(`$KV.${DEFAULT_SNAPSHOT_BUCKET}.{runId}`);
  });
});
