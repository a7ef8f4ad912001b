/** Search attributes: declared in `search:` (shorthand or { value, type }), resolved by the fold, set again by SET, filtered by `where`. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { matches, pageOf, parseRunQuery, QueryError, recordOf, type RunRecord } from '../../src/query/index.js';
import { RecordSet } from '../../src/query/record-set.js';
import { HISTORIES_DIR, readHistory } from '../fixtures/histories/histories.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

const ORDERS_YAML = `workflow:
  id: orders
  input:
    required: [customer, amount]
    optional:
      - region: eu
      - placed: "2026-01-01T00:00:00Z"
  search:
    customer: "\${workflow.input.customer}"
    region: "\${workflow.input.region}"
    amount: { value: "\${workflow.input.amount}", type: number }
    placed: { value: "\${workflow.input.placed}", type: time }
    vip: false
  tasks:
    - id: classify
      type: SET
      values: { checked: true }
      search:
        vip: true
        region: "\${workflow.input.region}-checked"
`;

function rec(i: number, search: RunRecord['search'], searchTypes: RunRecord['searchTypes']): RunRecord {
  return {
    runId: `run-${String(i).padStart(3, '0')}`,
    workflowId: 'orders',
    version: 1,
    status: 'COMPLETED',
    startedAt: new Date(NOW - (100 - i) * 3600_000).toISOString(),
    completedAt: null,
    lastSeq: 1,
    trigger: { kind: 'manual' },
    agents: [],
    durationMs: null,
    result: '',
    outputText: null,
    tasks: {},
    waiting: [],
    ...(search ? { search } : {}),
    ...(searchTypes ? { searchTypes } : {}),
  };
}
const TYPES = { customer: 'string', amount: 'number', placed: 'time', vip: 'bool' } as const;
const records = [
  rec(1, { customer: '42', amount: 420, placed: '2026-01-05T00:00:00.000Z', vip: true }, TYPES),
  rec(2, { customer: '7', amount: 70, placed: '2026-02-05T00:00:00.000Z', vip: false }, TYPES),
  rec(3, { customer: '42', amount: 99.5, vip: false }, TYPES), // placed left unset (its input was not a time)
  rec(4, undefined, undefined), // a workflow without search:
];

const ids = (q: string[], recs = records) =>
  pageOf(recs, parseRunQuery({ where: q }, 'cli', NOW), 'oldest').runs.map((r) => r.runId);

function thrown(fn: () => unknown): QueryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('search: in a definition', () => {
  it('takes the shorthand (text: string, number, true/false) and { value, type }', () => {
    const { definition, diagnostics } = parseDefinition(ORDERS_YAML);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(definition!.search).toEqual({
      customer: { value: '${workflow.input.customer}', type: 'string' },
      region: { value: '${workflow.input.region}', type: 'string' },
      amount: { value: '${workflow.input.amount}', type: 'number' },
      placed: { value: '${workflow.input.placed}', type: 'time' },
      vip: { value: false, type: 'bool' },
    });
    const set = definition!.tasks[0]!;
    expect(set.type === 'SET' && set.search).toEqual({ vip: true, region: '${workflow.input.region}-checked' });
  });

  it('refuses a bad name, an unknown type, a template of a task at start, and a SET of an attribute not declared, naming each', () => {
    const errors = (yaml: string) =>
      parseDefinition(yaml)
        .diagnostics.filter((d) => d.severity === 'error')
        .map((d) => `${d.code}: ${d.message}`);
    expect(errors(ORDERS_YAML.replace('    vip: false\n', '    9vip: false\n')).join('\n')).toMatch(
      /search attribute name/,
    );
    expect(errors(ORDERS_YAML.replace('type: number', 'type: integer')).join('\n')).toMatch(
      /type: string \| number \| bool \| time/,
    );
    expect(
      errors(ORDERS_YAML.replace('    vip: false\n', '    vip: "${classify.output.checked}"\n')).join('\n'),
    ).toMatch(/LF_TEMPLATE_NOT_AT_START/);
    expect(errors(ORDERS_YAML.replace('        vip: true\n', '        gold: true\n')).join('\n')).toMatch(
      /LF_SEARCH_UNDECLARED: task classify sets search attribute "gold".*declared: customer, region, amount, placed, vip/,
    );
  });
});

describe('search attributes in the fold and the run record', () => {
  it('the golden history records them: resolved from the input at start, typed (a time as ISO UTC)', async () => {
    const events = await readHistory(
      join(HISTORIES_DIR, 'lead_qualification', 'scenario-search-attributes.jsonl'),
      'golden-search-attributes',
    );
    const r = recordOf(events);
    expect(r.searchTypes).toEqual({ company: 'string', budget: 'number', received: 'time', hot: 'bool' });
    expect(r.search).toMatchObject({ company: expect.any(String), budget: expect.any(Number), hot: false });
    expect(r.search!.received).toBe('2026-01-01T08:30:00.000Z');
    // Every earlier record of the run has them too (the start's fold resolves them).
    expect(recordOf(events.slice(0, 1)).search).toEqual(r.search);
  });

  it('a record of a workflow without search: has neither field (older records unchanged)', async () => {
    const events = await readHistory(
      join(HISTORIES_DIR, 'lead_qualification', 'scenario-engine-run-commit-window.jsonl'),
      'golden-commit-window',
    );
    const r = recordOf(events);
    expect('search' in r).toBe(false);
    expect('searchTypes' in r).toBe(false);
  });
});

describe('where', () => {
  it("compares by the attribute's type: text, numbers, times (ISO or how long ago), booleans; every condition holds", () => {
    expect(ids(['customer=42'])).toEqual(['run-001', 'run-003']);
    expect(ids(['customer!=42'])).toEqual(['run-002']);
    expect(ids(['amount>100'])).toEqual(['run-001']);
    expect(ids(['amount<=99.5'])).toEqual(['run-002', 'run-003']);
    expect(ids(['placed>=2026-02-01'])).toEqual(['run-002']);
    expect(ids(['placed<30d'])).toEqual(['run-001']); // placed more than 30 days before NOW
    expect(ids(['vip=true'])).toEqual(['run-001']);
    expect(ids(['customer=42', 'vip=false'])).toEqual(['run-003']);
    expect(ids(['customer="42"'])).toEqual(['run-001', 'run-003']);
    // A run without the attribute meets no condition on it, not even !=.
    expect(ids(['placed!=2026-01-05T00:00:00Z'])).toEqual(['run-002']);
  });

  it('a query that matches nothing is an empty page, not an error', () => {
    expect(pageOf(records, parseRunQuery({ where: 'customer=99' }, 'cli', NOW), 'newest')).toMatchObject({
      runs: [],
      total: 0,
    });
  });

  it('refuses what is not a condition, an attribute no run has and a value of the wrong type, naming them', () => {
    expect(thrown(() => parseRunQuery({ where: 'customer' }, 'cli', NOW)).message).toMatch(
      /^--where "customer" is not a condition: use name=value/,
    );
    expect(thrown(() => parseRunQuery({ where: ['customer=1', 'a b=2'] }, 'http', NOW)).message).toMatch(
      /^where "a b=2" is not a condition/,
    );
    expect(thrown(() => ids(['custmer=42'])).message).toBe(
      'where "custmer=42": no run has a search attribute "custmer"; runs have: amount, customer, placed, vip',
    );
    expect(thrown(() => ids(['amount>lots'])).message).toBe(
      'where "amount>lots": amount is a number attribute and "lots" is not a number',
    );
    expect(thrown(() => ids(['placed>soon'])).message).toMatch(
      /placed is a time attribute and "soon" is not a time \(an ISO time/,
    );
    expect(thrown(() => ids(['vip>true'])).message).toMatch(/a bool takes = or !=/);
    expect(thrown(() => ids(['vip=yes'])).message).toMatch(/"yes" is not a bool \(true or false\)/);
    expect(thrown(() => ids(['x=1'], [records[3]!])).message).toMatch(
      /no run has any \(a workflow declares them in search:\)/,
    );
    expect(thrown(() => ids(['x=1'])).field).toBe('where');
  });

  it('the record set (what every index answers from) checks and filters as pageOf does', () => {
    const set = new RecordSet();
    set.putAll(records);
    expect(
      set.page(parseRunQuery({ where: ['amount>=70', 'vip=false'] }, 'http', NOW), 'newest').runs.map((r) => r.runId),
    ).toEqual(['run-003', 'run-002']);
    expect(() => set.page(parseRunQuery({ where: 'nope=1' }, 'http', NOW), 'newest')).toThrow(QueryError);
    expect(matches(records[0]!, parseRunQuery({ where: 'customer=42' }, 'http', NOW))).toBe(true);
  });
});
