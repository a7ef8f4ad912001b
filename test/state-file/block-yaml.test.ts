/**
 * The state file's fast YAML (src/state-file/block-yaml.ts): whatever it
 * writes is byte for byte what `yaml`'s stringify writes with the state
 * file's options, so the files do not change; and the entries and worksets
 * the file holds are in its domain, so the fast path is the one taken.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { blockYaml } from '../../src/state-file/block-yaml.js';
import { entryText, worksetYaml, WORKSET_HEADER } from '../../src/state-file/text.js';
import { fuzzParams } from '../fuzz/settings.js';

const OPTIONS = { aliasDuplicateObjects: false, lineWidth: 0 } as const;

/** Seed 000's entry for a run waiting for the commander (docs/state-file.md, "The layout"). */
const ENTRY = {
  id: '20261125-201956-27x08qv7f2vts',
  definition_id: 'inventory-validation-v1',
  version: 1,
  status: 'WAITING',
  created_at: '2026-11-25T20:19:56.189Z',
  completed_at: null,
  execution_time: null,
  input: { target_folder: '0UT.3OX', policy_file: 'strict.yaml', strict_mode: false },
  tasks: {
    scan_files: {
      status: 'COMPLETED',
      started_at: '2026-11-25T20:19:56.191Z',
      completed_at: '2026-11-25T20:19:56.237Z',
      attempts: 1,
      execution_time: '46ms',
      output: { total_files: 4 },
    },
    validate_compliance: {
      status: 'COMPLETED',
      started_at: '2026-11-25T20:19:56.237Z',
      completed_at: '2026-11-25T20:19:56.240Z',
      attempts: 1,
      execution_time: '3ms',
      output: { compliance_status: 'FAIL_STRICT', compliance_score: 50 },
    },
    decision_gate: {
      status: 'COMPLETED',
      started_at: '2026-11-25T20:19:56.240Z',
      completed_at: '2026-11-25T20:19:56.240Z',
      attempts: 1,
      execution_time: '0ms',
      decision: 'FAIL_STRICT',
      next_tasks: ['alert_cmd_bridge'],
    },
    generate_receipt: { status: 'SKIPPED' },
    alert_cmd_bridge: {
      status: 'PENDING_APPROVAL',
      started_at: '2026-11-25T20:19:56.240Z',
      attempts: 1,
      waiting_since: '2026-11-25T20:19:56.240Z',
      timeout_at: '2026-11-25T21:19:56.240Z',
    },
  },
};

const ENTRY_TEXT = `20261125-201956-27x08qv7f2vts:
  id: 20261125-201956-27x08qv7f2vts
  definition_id: inventory-validation-v1
  version: 1
  status: WAITING
  created_at: 2026-11-25T20:19:56.189Z
  completed_at: null
  execution_time: null
  input:
    target_folder: 0UT.3OX
    policy_file: strict.yaml
    strict_mode: false
  tasks:
    scan_files:
      status: COMPLETED
      started_at: 2026-11-25T20:19:56.191Z
      completed_at: 2026-11-25T20:19:56.237Z
      attempts: 1
      execution_time: 46ms
      output:
        total_files: 4
    validate_compliance:
      status: COMPLETED
      started_at: 2026-11-25T20:19:56.237Z
      completed_at: 2026-11-25T20:19:56.240Z
      attempts: 1
      execution_time: 3ms
      output:
        compliance_status: FAIL_STRICT
        compliance_score: 50
    decision_gate:
      status: COMPLETED
      started_at: 2026-11-25T20:19:56.240Z
      completed_at: 2026-11-25T20:19:56.240Z
      attempts: 1
      execution_time: 0ms
      decision: FAIL_STRICT
      next_tasks:
        - alert_cmd_bridge
    generate_receipt:
      status: SKIPPED
    alert_cmd_bridge:
      status: PENDING_APPROVAL
      started_at: 2026-11-25T20:19:56.240Z
      attempts: 1
      waiting_since: 2026-11-25T20:19:56.240Z
      timeout_at: 2026-11-25T21:19:56.240Z
`;

/** Seed 003's workset for the same kind of run (docs/state-file.md, "Worksets"). */
const WORKSET = {
  id: 'ws-20261125-230657-2e5hbft2n110l',
  goal: 'Validates file inventory and generates compliance receipt',
  created: '2026-11-25T23:06:57.313Z',
  updated: '2026-11-25T23:06:57.393Z',
  status: 'waiting',
  owner: 'manual',
  workflow_instance: '20261125-230657-2e5hbft2n110l',
  workflow: {
    definition: 'inventory-validation-v1',
    version: 1,
    instance_id: '20261125-230657-2e5hbft2n110l',
    state: 'WAITING',
    current_task: 'alert_cmd_bridge',
    progress: '83%',
  },
  tasks: [
    {
      id: 'scan_files',
      status: 'COMPLETED',
      started: '2026-11-25T23:06:57.316Z',
      completed: '2026-11-25T23:06:57.389Z',
    },
    { id: 'generate_receipt', status: 'SKIPPED' },
    { id: 'alert_cmd_bridge', status: 'PENDING_APPROVAL', started: '2026-11-25T23:06:57.393Z' },
  ],
  failures: { count: 0, retries: [] },
  approvals: [
    {
      task: 'alert_cmd_bridge',
      status: 'pending',
      requested: '2026-11-25T23:06:57.393Z',
      timeout: '2026-11-26T00:06:57.393Z',
    },
  ],
  input: {},
};

const WORKSET_TEXT = `workset:
  id: ws-20261125-230657-2e5hbft2n110l
  goal: Validates file inventory and generates compliance receipt
  created: 2026-11-25T23:06:57.313Z
  updated: 2026-11-25T23:06:57.393Z
  status: waiting
  owner: manual
  workflow_instance: 20261125-230657-2e5hbft2n110l
  workflow:
    definition: inventory-validation-v1
    version: 1
    instance_id: 20261125-230657-2e5hbft2n110l
    state: WAITING
    current_task: alert_cmd_bridge
    progress: 83%
  tasks:
    - id: scan_files
      status: COMPLETED
      started: 2026-11-25T23:06:57.316Z
      completed: 2026-11-25T23:06:57.389Z
    - id: generate_receipt
      status: SKIPPED
    - id: alert_cmd_bridge
      status: PENDING_APPROVAL
      started: 2026-11-25T23:06:57.393Z
  failures:
    count: 0
    retries: []
  approvals:
    - task: alert_cmd_bridge
      status: pending
      requested: 2026-11-25T23:06:57.393Z
      timeout: 2026-11-26T00:06:57.393Z
  input: {}
`;

describe('blockYaml: the state file layouts', () => {
  it("writes the docs' entry and workset in yaml's layout, and they take the fast path", () => {
    const entry = { [ENTRY.id]: ENTRY };
    expect(blockYaml(entry)).toBe(ENTRY_TEXT);
    expect(stringify(entry, OPTIONS)).toBe(ENTRY_TEXT);
    expect(entryText(ENTRY)).toBe(ENTRY_TEXT);
    expect(blockYaml({ workset: WORKSET })).toBe(WORKSET_TEXT);
    expect(stringify({ workset: WORKSET }, OPTIONS)).toBe(WORKSET_TEXT);
    expect(worksetYaml(WORKSET)).toBe(WORKSET_HEADER + WORKSET_TEXT);
  });

  it('writes lists in lists, maps in lists in maps, and empty ones as yaml does', () => {
    const value = {
      a: [[1, [2, 'x']], { b: { c: [] } }, {}, [], null],
      d: { e: [{ f: [{}] }] },
      g: undefined,
      h: [undefined],
    };
    expect(blockYaml(value)).toBe(stringify(value, OPTIONS));
    expect(blockYaml({})).toBe('{}\n');
    expect(blockYaml([])).toBe('[]\n');
    expect(blockYaml({ only: undefined })).toBe('{}\n');
  });

  it('leaves to yaml (null) what it quotes and what is outside the fast domain, and writes the rest as yaml does', () => {
    const quoted = [
      '',
      ' a',
      'a ',
      'a: b',
      'a #b',
      'a:',
      '1',
      '-1',
      '1.5',
      '.5',
      '1e5',
      '0x1F',
      '0o17',
      'true',
      'False',
      'null',
      '~',
      '.inf',
      '-.inf',
      '.NaN',
      '---',
      '...',
      '- a',
      '-',
      '? a',
      '#x',
      '@x',
      '`x',
      '%x',
      '!x',
      '&x',
      '*x',
      '|x',
      '>x',
      "'x",
      '"x',
      ',x',
      '[x',
      '{x',
      'a\nb',
      'a\tb',
      '\u0085',
      '\ud800',
      'x\u007f',
      'a\u2028%b',
      'a\u2029---',
      'é',
    ];
    for (const s of quoted) {
      expect(blockYaml({ k: s }), JSON.stringify(s)).toBeNull();
      expect(blockYaml({ [s]: 1 }), JSON.stringify(s)).toBeNull();
    }
    const plain = [
      'yes',
      'no',
      'on',
      'off',
      '1_000',
      '1.2.3',
      'a#b',
      'a:b',
      '(x)',
      '/tmp/a',
      'café',
      'a é → b',
      '100%',
      'Five sequential steps',
      'five-steps',
      '20261126-164256-2mfxo11kxg0oo',
      '2026-11-26T16:42:56.052Z',
      '46ms',
      '3.2s',
      'a, b [c] {d}',
    ];
    for (const s of plain) {
      expect(blockYaml({ [s]: s }), JSON.stringify(s)).toBe(stringify({ [s]: s }, OPTIONS));
    }
    expect(blockYaml({ ['k'.repeat(1025)]: 1 })).toBeNull();
    expect(blockYaml({ n: Number.NaN })).toBeNull();
    expect(blockYaml({ d: new Date(0) })).toBeNull();
    for (const n of [0, -0, 1, -1, 0.5, -2.25, 1e21, 1e-7, 2 ** 53, 123456.789]) {
      expect(blockYaml({ n }), String(n)).toBe(stringify({ n }, OPTIONS));
    }
  });
});

const NASTY = [
  ' ',
  ':',
  '#',
  '-',
  '?',
  '.',
  ',',
  '[',
  ']',
  '{',
  '}',
  "'",
  '"',
  '!',
  '&',
  '*',
  '|',
  '>',
  '%',
  '@',
  '`',
  '~',
  '\n',
  '\t',
  '\\',
  '\u0085',
  '\u00a0',
  'é',
  '\u2028',
  '\ufeff',
  '\u0007',
  '\ud83d',
  '0',
  '1',
  'e',
  'x',
  'o',
  '+',
];
const SAFE = ['a', 'b', 'Z', '_', '0', '9', 'T', 'Z', '/', '(', ')', ' ', '-', ':', '.', '%'];
const WORDS = [
  'true',
  'null',
  '~',
  'yes',
  'NULL',
  '.inf',
  '.nan',
  '0x1A',
  '0o17',
  '1e3',
  '-12',
  '+3',
  '1.',
  '.5',
  '---',
  '...',
  '2026-11-26T16:42:56.052Z',
  '20261126-164256-2mfxo11kxg0oo',
  '100%',
  'five-steps',
  'Five sequential steps',
  'COMPLETED',
];

const text = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SAFE), maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...SAFE, ...NASTY), maxLength: 12 }),
  fc.constantFrom(...WORDS),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  // JavaScript's /m lines end at U+2028/U+2029 too, and yaml quotes a line that starts with `%`, `---` or `...`.
  fc.string({ unit: fc.constantFrom('a', '\u2028', '\u2029', '\n', '%', '-', '.', ' ', '#', ':'), maxLength: 8 }),
);
const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 1e21, 1e-7, 0.1, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(text, tie('value'), { maxKeys: 5 }),
}));

describe('blockYaml: equal to yaml over random values', () => {
  it("writes a random string, as a key and as a value, as yaml's stringify does (or leaves it to yaml)", () => {
    fc.assert(
      fc.property(text, (s) => {
        const v = { [s]: { s, list: [s] } };
        const fast = blockYaml(v);
        if (fast !== null) expect(fast).toBe(stringify(v, OPTIONS));
      }),
      fuzzParams(30000, 8000),
    );
  });

  it("whatever it writes is yaml's stringify with the state file's options", () => {
    fc.assert(
      fc.property(value, (v) => {
        const fast = blockYaml(v);
        if (fast !== null) expect(fast).toBe(stringify(v, OPTIONS));
      }),
      fuzzParams(3000, 8000),
    );
  });

  it('takes the fast path for maps and lists of safe words, numbers, booleans and nulls', () => {
    const word = fc.oneof(fc.constantFrom(...WORDS.slice(16)), fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/));
    const { safe } = fc.letrec((tie) => ({
      safe: fc.oneof(
        { depthSize: 'small' },
        word,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        tie('list'),
        tie('map'),
      ),
      list: fc.array(tie('safe'), { maxLength: 4 }),
      map: fc.dictionary(word, tie('safe'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(safe, (v) => {
        expect(blockYaml(v)).toBe(stringify(v, OPTIONS));
      }),
      fuzzParams(1000, 4000),
    );
  });
});
