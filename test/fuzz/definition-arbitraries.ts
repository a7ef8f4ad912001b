/**
 * Definitions for the fuzzer: valid-shaped trees generated from the JSON
 * Schema of the YAML language (so a new field is fuzzed as soon as the schema
 * has it), wired together with task ids that refer to each other, then
 * hostile mutations of the tree and of its YAML text.
 */
import fc from 'fast-check';
import { Document } from 'yaml';
import { definitionJsonSchema } from '../../src/definition/index.js';

type Json = unknown;
interface Schema {
  type?: string;
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

const ROOT = definitionJsonSchema() as Schema;
const WORKFLOW = ROOT.properties!.workflow!;
const TASK = WORKFLOW.properties!.tasks!.items!;

/** Ids: mostly plain, some hostile (reserved names, unicode, very long, subject-breaking). */
const PLAIN_IDS = ['a', 'b', 'c', 'd', 'e', 'scan', 'review', 'ship', '_x', 'step-2'];
const HOSTILE_IDS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'workflow',
  'event',
  'input',
  'é',
  'タスク',
  'a\u200Bb',
  '\u202Eevil',
  '😀',
  'a.b',
  'a b',
  '',
  '-a',
  '1a',
  'a'.repeat(300),
  'a*',
  'a>',
];
/** Mostly a sane value, now and then a hostile one: the base definitions should mostly validate, the mutations break them. */
function mostly<T>(sane: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 25, arbitrary: sane }, { weight: 1, arbitrary: hostile });
}

export const taskId = mostly(fc.constantFrom(...PLAIN_IDS), fc.constantFrom(...HOSTILE_IDS));

const DURATIONS = [
  '0',
  '1ms',
  '500ms',
  '30s',
  '2m',
  '1h30m',
  '1d',
  'PT30S',
  'P1D',
  '365d',
  '366d',
  '53w',
  '99999999999999999999d',
  'PT',
  '1e3s',
  '-5s',
  'soon',
  '1.5h',
];
const duration = mostly(
  fc.constantFrom(
    '0',
    '1ms',
    '500ms',
    '30s',
    '2m',
    '1h30m',
    '1d',
    'PT30S',
    'P1D',
    '365d',
    0,
    1,
    1000,
    60_000,
    31_536_000_000,
  ),
  fc.constantFrom(...DURATIONS, 31_536_000_001, 1e300, -1, Number.MAX_SAFE_INTEGER, 0.5),
);

const HOSTILE_STRINGS = [
  '',
  ' ',
  '${',
  '${}',
  '${a.output.x}',
  '${input.x}',
  '${workflow.runId}',
  '${__proto__.x}',
  '${constructor.name}',
  '${a.output.__proto__}',
  '${' + 'a.'.repeat(200) + 'x}',
  '${input.x} and ${b.status}',
  '$${escaped}',
  '\u0000',
  '\uFFFD',
  '\uD800',
  '\u202E',
  '\u200B',
  '😀'.repeat(50),
  'x'.repeat(20_000),
  'line\nbreak',
  '"quoted"',
  "'single'",
  '*alias',
  '&anchor',
  '!!binary AAAA',
];
/** A template over the tasks it may read (`upstream`: those it depends on). */
const template = (upstream: string[]) =>
  mostly(
    upstream.length === 0
      ? fc.constantFrom('plain', '${workflow.runId}')
      : fc.oneof(
          fc.constantFrom('plain', '${workflow.runId}'),
          fc.constantFrom(...upstream).map((id) => '${' + id + '.output.x}'),
          fc.constantFrom(...upstream).map((id) => '${' + id + '.status}'),
        ),
    fc.constantFrom(...HOSTILE_STRINGS),
  );
const HOSTILE_CONDITIONS = [
  '(((((',
  '1 +',
  'constructor.constructor("x")()',
  '__proto__.polluted',
  '$' + '('.repeat(500),
  '${a.output.x} == ' + '1 + '.repeat(2000) + '1',
];
const condition = (upstream: string[]) =>
  mostly(
    upstream.length === 0
      ? fc.constantFrom('true', 'false')
      : fc.oneof(
          fc.constantFrom('true', 'false'),
          fc.constantFrom(...upstream).map((id) => '${' + id + ".output.x} == 'y'"),
        ),
    fc.constantFrom(...HOSTILE_CONDITIONS),
  );

/** A JSON value: small, with hostile corners (huge numbers, reserved keys, depth). */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(
    1e300,
    -1e300,
    -1,
    -0,
    0.1,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    NaN,
    Infinity,
    -Infinity,
    null,
    true,
    false,
    '',
    '99999999999999999999d',
  ),
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom({}, [], [[[]]]),
  fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 91, max: 1500 })).map((depth) => nest(depth)),
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => withKey({}, k, { polluted: true })),
);

/** `{ a: { a: ... } }` `depth` deep (deep nesting in inputs, outputs, values). */
export function nest(depth: number): Json {
  let v: Json = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}

/** An object with an own key, even `__proto__` (a literal would set the prototype instead). */
export function withKey<T extends object>(obj: T, key: string, value: unknown): T {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  return obj;
}

/** Names of per-field arbitraries where the schema says only "string" but the field means something. */
/** What a task's fields may name: tasks it may point at (`refs`, later ones: no cycles) and read (`upstream`). */
interface Names {
  refs: string[];
  upstream: string[];
}

function fieldArb(name: string, { refs: ids, upstream }: Names): fc.Arbitrary<Json> | undefined {
  const ref =
    ids.length === 0
      ? fc.constantFrom('missing', ...HOSTILE_IDS)
      : mostly(fc.constantFrom(...ids), fc.constantFrom('missing', ...HOSTILE_IDS));
  const refs = fc.oneof(ref, fc.array(ref, { maxLength: 3 }));
  switch (name) {
    case 'depends_on':
    case 'parallel_with':
    case 'join_on':
    case 'loop_over':
    case 'next':
    case 'next_tasks':
      return refs;
    case 'fork_tasks':
      return fc.array(fc.oneof(ref, fc.array(ref, { maxLength: 2 })), { maxLength: 3 });
    case 'timeout':
    case 'duration':
    case 'initial_delay':
    case 'max_delay':
      return duration;
    case 'decision_param':
    case 'output_to':
    case 'until':
    case 'items':
    case 'reason':
      return template(upstream);
    case 'condition':
    case 'loop_condition':
      return condition(upstream);
    case 'approvers':
      return mostly<Json>(
        fc.oneof(
          fc.constantFrom('alice', 'bob'),
          fc.array(fc.constantFrom('alice', 'bob', 'cfo', 'commander'), { maxLength: 2 }),
        ),
        fc.constantFrom('__proto__', '', 'a'.repeat(5000)),
      );
    case 'handler':
    case 'assigned_to':
      return fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('h1', 'h2') },
        { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty') },
      );
    case 'iterator':
      return ref;
    case 'schedule':
    case 'cron':
      return fc.constantFrom('0 9 * * *', '*/5 * * * *', '99 99 * * *', '* * * * * * *', '');
    case 'event':
      return fc.constantFrom('order.created', 'a..b', 'x', '>', 'lf.*');
    case 'timezone':
      return fc.constantFrom('UTC', 'Europe/Paris', 'Mars/Olympus');
    case 'queue':
      return fc.constantFrom('default', 'gpu', 'a.b', '>', '');
    case 'workflow':
      return fc.constantFrom('child', '');
    default:
      return undefined;
  }
}

/** An arbitrary for a JSON Schema node: the schema's types and bounds, plus a few values just outside them. */
function fromSchema(s: Schema, name: string, ids: Names, depth: number): fc.Arbitrary<Json> {
  const special = fieldArb(name, ids);
  if (special) return special;
  if (s.enum) return mostly(fc.constantFrom(...s.enum), fc.constantFrom('nope', 'simple', 'Human'));
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => fromSchema(x, name, ids, depth)));
  switch (s.type) {
    case 'integer':
      return mostly(
        fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 5, 5) }),
        fc.constantFrom((s.minimum ?? 0) - 1, (s.maximum ?? 1e9) + 1, 2 ** 53 + 2, 1.5),
      );
    case 'number':
      return mostly(
        fc.double({ min: s.minimum ?? 0, max: s.maximum ?? 10, noNaN: true }),
        fc.constantFrom(-1, 1.5, 1e300, NaN),
      );
    case 'boolean':
      return fc.boolean();
    case 'string':
      return mostly(fc.constantFrom('x', 'y', 'default', 'ok'), fc.constantFrom(...HOSTILE_STRINGS));
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(s.items ? fromSchema(s.items, name, ids, depth + 1) : hostileValue, { maxLength: 3 });
    case 'object': {
      if (depth > 3) return fc.constant({});
      if (s.properties) return objectFrom(s, ids, depth + 1);
      // A map of name: value (input, values, data, decision cases).
      const value =
        typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length > 0
          ? fromSchema(s.additionalProperties, '', ids, depth + 1)
          : mostly(fc.oneof(fc.constantFrom('v', 1, true, '${workflow.runId}'), template(ids.upstream)), hostileValue);
      return fc
        .dictionary(
          mostly(fc.constantFrom('x', 'y', 'default', 'ok'), fc.constantFrom('__proto__', 'constructor', 'é')),
          value,
          { maxKeys: 3 },
        )
        .map((d) => Object.entries(d).reduce((o, [k, v]) => withKey(o, k, v), {} as Record<string, Json>));
    }
    default:
      return hostileValue;
  }
}

/** An object with a random subset of the schema's properties. */
function objectFrom(
  s: Schema,
  ids: Names,
  depth: number,
  required: Record<string, fc.Arbitrary<Json>> = {},
): fc.Arbitrary<Record<string, Json>> {
  const optional: Record<string, fc.Arbitrary<Json>> = {};
  for (const [k, sub] of Object.entries(s.properties ?? {}))
    if (!(k in required)) optional[k] = fromSchema(sub, k, ids, depth);
  return fc.record({ ...required, ...optional }, { requiredKeys: Object.keys(required) as never[] }) as fc.Arbitrary<
    Record<string, Json>
  >;
}

/** TRANSFORM programs: ones that run, one jq raises an error in, one that does not compile. */
const JQ_PROGRAMS = ['.', '{ x: (.x // "y") }', '[.[]?] | length', '.x.y.z', 'error("boom")', '.a |'];

/** Task types weighted towards those the runtime executes, so most definitions also run. */
const taskType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('SIMPLE', 'SIMPLE', 'HUMAN', 'DECISION', 'FORK', 'JOIN', 'simple') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'WAIT',
      'SET',
      'EMIT',
      'MAP',
      'TERMINATE',
      'DO_WHILE',
      'SUB_WORKFLOW',
      'HTTP',
      'TRANSFORM',
      'BOGUS',
    ),
  },
);

/** Task fields that are mostly absent: each adds little but a lot of noise that keeps definitions from validating. */
const RARE = new Set([
  'decision_param',
  'decision_cases',
  'approvers',
  'on_timeout',
  'fork_tasks',
  'join_on',
  'loop_condition',
  'loop_over',
  'max_iterations',
  'duration',
  'until',
  'event',
  'workflow',
  'version',
  'items',
  'iterator',
  'max_concurrency',
  'status',
  'reason',
  'values',
  'data',
  'jq',
  'parallel_with',
  'output_to',
  'queue',
  'agent_level',
  'trigger_rule',
  'method',
  'url',
  'headers',
  'query',
  'body',
  'expect',
  'max_response_body',
]);

function taskArb(ids: string[], index: number): fc.Arbitrary<Record<string, Json>> {
  const earlier = ids.slice(0, index);
  const later = ids.slice(index + 1);
  const common: Record<string, Schema> = {};
  const rare: Record<string, Schema> = {};
  for (const [k, sub] of Object.entries(TASK.properties!))
    if (!['id', 'type', 'depends_on', 'backoff_strategy'].includes(k)) (RARE.has(k) ? rare : common)[k] = sub;
  const fields = (props: Record<string, Schema>, freq: number, names: Names) =>
    fc
      .record(Object.fromEntries(Object.entries(props).map(([k, sub]) => [k, fromSchema(sub, k, names, 1)])), {
        requiredKeys: [],
      })
      .chain((r) =>
        fc
          .subarray(Object.keys(r), {
            maxLength: Math.min(Object.keys(r).length, Math.max(1, Math.round(Object.keys(r).length * freq))),
          })
          .map((keep) => Object.fromEntries(keep.map((k) => [k, r[k]]))),
      );
  // Most tasks depend on the one before (a chain), and then may read its output.
  const dep = fc.oneof(
    { weight: 3, arbitrary: fc.constant(earlier.slice(-1)) },
    { weight: 1, arbitrary: fc.subarray(earlier, { maxLength: Math.min(2, earlier.length) }) },
  );
  return dep.chain((dependsOn) =>
    fc
      .record({
        type: taskType,
        common: fields(common, 0.3, { refs: later, upstream: dependsOn }),
        rare: fields(rare, 0.1, { refs: later, upstream: dependsOn }),
      })
      .map(({ type, common: c, rare: r }) => {
        // Types that point at other tasks need somewhere to point; a task with nowhere to point is SIMPLE.
        const kind =
          (type === 'DECISION' || type === 'FORK') && later.length === 0
            ? 'SIMPLE'
            : type === 'JOIN' && earlier.length === 0
              ? 'SIMPLE'
              : type;
        const t = {
          id: ids[index]!,
          type: kind,
          ...(dependsOn.length > 0 ? { depends_on: dependsOn.length === 1 ? dependsOn[0]! : dependsOn } : {}),
          ...c,
          ...r,
        } as Record<string, Json>;
        if (kind === 'DECISION') {
          t.decision_param ??= dependsOn.length > 0 ? '${' + dependsOn[0] + '.output.x}' : '${workflow.id}';
          t.decision_cases ??= { y: { next: later[0]! }, default: { next: later.at(-1)! } };
        }
        if (kind === 'FORK') t.fork_tasks ??= later.slice(0, 2);
        // An HTTP task needs a URL; the oracle answers its requests (nothing is sent).
        if (kind === 'HTTP') t.url ??= 'https://api.example.com/orders';
        if (kind === 'JOIN') t.join_on ??= earlier.slice(-2);
        // A TRANSFORM's jq: mostly one that runs (real jq, in the engine), now and then one that fails or does not compile.
        if (kind === 'TRANSFORM') t.jq ??= JQ_PROGRAMS[index % JQ_PROGRAMS.length]!;
        return t;
      }),
  );
}

export interface Case {
  tree: Record<string, Json>;
  text: string;
  mutations: string[];
}

/** A workflow tree: input declarations, tasks, output, triggers, from the workflow schema. */
export const workflowTree: fc.Arbitrary<Record<string, Json>> = fc
  .uniqueArray(taskId, { minLength: 1, maxLength: 6 })
  .chain((ids) =>
    fc.record({
      ids: fc.constant(ids),
      tasks: fc.tuple(...ids.map((_, i) => taskArb(ids, i))),
      id: mostly(fc.constantFrom('fuzz', 'order-flow', 'wf_1'), fc.constantFrom('a.b', '', 'ünï', 'x'.repeat(500))),
      extra: objectFrom(
        {
          properties: Object.fromEntries(
            Object.entries(WORKFLOW.properties!).filter(([k]) => ['name', 'version', 'description'].includes(k)),
          ),
        },
        { refs: ids, upstream: [] },
        1,
      ),
      output: fc.option(
        fc.oneof(
          fc.constant(['x']),
          fc.constantFrom(...ids).map((t) => ({ result: '${' + t + '.output.x}' })),
        ),
        { nil: undefined, freq: 4 },
      ),
      triggers: fc.option(
        fc.array(
          fc.oneof(
            fc.record(
              {
                event: mostly(fc.constantFrom('order.created', 'x'), fc.constantFrom('a..b', '>', 'lf.*')),
                filter: fc.option(
                  mostly(fc.constantFrom('event.amount > 1', 'true'), fc.constantFrom(...HOSTILE_CONDITIONS)),
                  { nil: undefined },
                ),
              },
              { requiredKeys: ['event'] },
            ),
            fc.record(
              {
                schedule: mostly(
                  fc.constantFrom('0 9 * * *', '*/5 * * * *'),
                  fc.constantFrom('99 99 * * *', '* * * * * * *', ''),
                ),
                timezone: mostly(fc.constantFrom('UTC', 'Europe/Paris'), fc.constant('Mars/Olympus')),
              },
              { requiredKeys: ['schedule'] },
            ),
          ),
          { minLength: 1, maxLength: 2 },
        ),
        { nil: undefined, freq: 6 },
      ),
      input: fc.option(
        fc.record(
          {
            required: fc.uniqueArray(
              fc.oneof(
                fc.constantFrom('x', 'y', 'amount'),
                fc.record({
                  spec: fc.record({ type: fc.constantFrom('string', 'number', 'boolean', 'object', 'array', 'any') }),
                }),
              ),
              { maxLength: 2, selector: (v) => (typeof v === 'string' ? v : 'spec') },
            ),
            optional: fc.uniqueArray(
              fc.oneof(fc.constantFrom('z'), fc.record({ w: fc.constantFrom(1, 'd', true, null) })),
              { maxLength: 2, selector: (v) => (typeof v === 'string' ? v : 'w') },
            ),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
    }),
  )
  .map(({ tasks, id, extra, input, output, triggers }) => {
    // Triggers map every required input (else every run they start is refused, a check of its own).
    const required = (input?.required ?? []).map((r) => (typeof r === 'string' ? r : 'spec'));
    const withInputs = triggers?.map((t) => ({ ...t, input: Object.fromEntries(required.map((r) => [r, 'v'])) }));
    return {
      workflow: {
        id,
        ...extra,
        ...(input ? { input } : {}),
        ...(output ? { output } : {}),
        ...(withInputs ? { triggers: withInputs } : {}),
        tasks,
      },
    };
  });

/** Mutations of the tree: a hostile value or key at a random place. */
type TreeMutation = { kind: 'set' | 'key' | 'wrap'; at: number; value: Json; key: string };
const treeMutation: fc.Arbitrary<TreeMutation> = fc.record({
  kind: fc.constantFrom('set', 'key', 'wrap'),
  at: fc.nat(),
  value: hostileValue,
  key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'tasks', 'id', 'type', '<<', '😀', 'x'.repeat(1000)),
});

function containers(
  v: Json,
  out: (Record<string, Json> | Json[])[] = [],
  depth = 0,
): (Record<string, Json> | Json[])[] {
  if (depth > 8 || v === null || typeof v !== 'object') return out;
  out.push(v as Record<string, Json>);
  for (const x of Object.values(v)) containers(x, out, depth + 1);
  return out;
}

function applyTree(tree: Record<string, Json>, mutation: TreeMutation): string {
  // The value may be a shared constant: a copy, so no mutation ever makes a cycle.
  const m = { ...mutation, value: copy(mutation.value) };
  const all = containers(tree);
  const target = all[m.at % all.length]!;
  const keys = Object.keys(target);
  if (m.kind === 'key' || keys.length === 0) {
    if (Array.isArray(target)) target.push(m.value);
    else withKey(target, m.key, m.value);
    return `key ${m.key}`;
  }
  const k = keys[m.at % keys.length]!;
  withKey(target, k, m.kind === 'wrap' ? nest(1 + (m.at % 50)) : m.value);
  return `${m.kind} ${k}`;
}

/** Mutations of the YAML text: aliases, merge keys, duplicates, truncation, odd bytes. */
const TEXT_MUTATIONS = [
  'merge',
  'selfAlias',
  'unknownAlias',
  'laughs',
  'deepFlow',
  'dupLine',
  'truncate',
  'crlf',
  'bom',
  'tab',
  'nul',
  'tag',
  'scalar',
] as const;
type TextMutation = { kind: (typeof TEXT_MUTATIONS)[number]; at: number; n: number };
const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom(...TEXT_MUTATIONS),
  at: fc.nat(),
  n: fc.integer({ min: 1, max: 2000 }),
});

const SCALARS = [
  '1e300',
  '.nan',
  '-.inf',
  '0x7FFFFFFFFFFFFFFF',
  '~',
  '99999999999999999999',
  '-0',
  '!!str 5',
  '!!float',
  "''",
  '[]',
  '{}',
];

function applyText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const pick = (pred: (l: string) => boolean) => {
    const idx = lines.map((l, i) => (pred(l) ? i : -1)).filter((i) => i >= 0);
    return idx.length === 0 ? -1 : idx[m.at % idx.length]!;
  };
  const insertAfter = (i: number, ...add: string[]) => lines.splice(i + 1, 0, ...add);
  const head = Math.max(0, lines.indexOf('workflow:'));
  switch (m.kind) {
    case 'merge': {
      insertAfter(
        head,
        '  x_defaults: &d { type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 5s }',
      );
      const t = pick((l) => /^ {4}- /.test(l));
      if (t >= 0) insertAfter(t, '      <<: *d');
      break;
    }
    case 'selfAlias':
      insertAfter(head, '  x_loop: &loop [ 1, *loop ]');
      break;
    case 'unknownAlias':
      insertAfter(head, '  x_u: *nope');
      break;
    case 'laughs': {
      const levels = 3 + (m.at % 6);
      const add = ['  x_l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      for (let i = 1; i <= levels; i++)
        add.push(
          `  x_l${i}: &l${i} [${Array(10)
            .fill(`*l${i - 1}`)
            .join(', ')}]`,
        );
      insertAfter(head, ...add);
      break;
    }
    case 'deepFlow':
      insertAfter(head, `  x_deep: ${'['.repeat(m.n * 5)}${']'.repeat(m.n * 5)}`);
      break;
    case 'dupLine': {
      const i = m.at % lines.length;
      lines.splice(i, 0, lines[i]!);
      break;
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'bom':
      return '\uFEFF' + text;
    case 'tab': {
      const i = m.at % lines.length;
      lines[i] = lines[i]!.replace(/^ {2}/, '\t');
      break;
    }
    case 'nul': {
      const i = m.at % lines.length;
      lines[i] += '\u0000\u0007';
      break;
    }
    case 'tag': {
      const i = pick((l) => /: \S/.test(l));
      if (i >= 0) lines[i] = lines[i]!.replace(/: /, ': !!js/function ');
      break;
    }
    case 'scalar': {
      const i = pick((l) => /: \S/.test(l) && !/: [|>]/.test(l));
      if (i >= 0) lines[i] = lines[i]!.replace(/: .*$/, `: ${SCALARS[m.n % SCALARS.length]}`);
      break;
    }
  }
  return lines.join('\n');
}

/** A deep copy that keeps own `__proto__` keys as keys. */
function copy(v: Json): Json {
  if (Array.isArray(v)) return v.map(copy);
  if (v === null || typeof v !== 'object') return v;
  return Object.entries(v).reduce((o, [k, x]) => withKey(o, k, copy(x)), {} as Record<string, Json>);
}

function depthOf(v: Json, limit: number): number {
  let d = 0;
  for (let x: Json = v; x !== null && typeof x === 'object' && d <= limit; d++) x = Object.values(x)[0];
  return d;
}

/**
 * The YAML a user might write for a tree: block style, long strings kept on
 * one line; very deep values in flow style (JSON), which is how anyone would
 * write them (and the yaml package's block writer recurses once per level).
 */
export function render(tree: Json): string {
  const deep: Json[] = [];
  const swap = (v: Json): Json => {
    if (v === null || typeof v !== 'object') return v;
    if (depthOf(v, 30) > 30) return `DEEPVALUE${deep.push(v) - 1}X`;
    if (Array.isArray(v)) return v.map(swap);
    return Object.entries(v).reduce((o, [k, x]) => withKey(o, k, swap(x)), {} as Record<string, Json>);
  };
  const text = new Document(swap(tree), { aliasDuplicateObjects: false }).toString({ lineWidth: 0 });
  return text.replace(/DEEPVALUE(\d+)X/g, (_, i: string) => JSON.stringify(deep[Number(i)]));
}

/** A definition case: a schema-shaped tree, then (most of the time) a few tree and text mutations. */
export const definitionCase: fc.Arbitrary<Case> = fc
  .record({
    tree: workflowTree,
    treeMutations: fc.oneof(
      { weight: 2, arbitrary: fc.constant<TreeMutation[]>([]) },
      { weight: 1, arbitrary: fc.array(treeMutation, { minLength: 1, maxLength: 3 }) },
    ),
    textMutations: fc.oneof(
      { weight: 3, arbitrary: fc.constant<TextMutation[]>([]) },
      { weight: 1, arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }) },
    ),
  })
  .map(({ tree: generated, treeMutations, textMutations }) => {
    // Mutate a copy: fast-check may hand the generated value out again while shrinking.
    const tree = copy(generated) as Record<string, Json>;
    const mutations = treeMutations.map((m) => applyTree(tree, m));
    let text = render(tree);
    for (const m of textMutations) {
      text = applyText(text, m);
      mutations.push(`text ${m.kind}`);
    }
    return { tree, text, mutations };
  });
