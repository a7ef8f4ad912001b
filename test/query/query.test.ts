/** The run query: one parser for CLI flags and HTTP query strings, filters, and paging with an opaque cursor. */
import { describe, expect, it } from 'vitest';
import { matches, pageOf, parseRunQuery, QueryError, type RunRecord } from '../../src/query/index.js';
import { RecordSet } from '../../src/query/record-set.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function rec(i: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: `run-${String(i).padStart(3, '0')}`,
    workflowId: i % 2 ? 'odd' : 'even',
    version: 1,
    status: i % 3 ? 'COMPLETED' : 'FAILED',
    startedAt: new Date(NOW - (100 - i) * 3600_000).toISOString(),
    completedAt: null,
    lastSeq: 3,
    trigger: i % 4 === 0 ? { kind: 'event', type: 'lead.created', id: `evt-${i}` } : { kind: 'manual' },
    agents: i % 5 === 0 ? ['alice', 'bob'] : ['carol'],
    durationMs: 10,
    result: 'r',
    outputText: i === 7 ? '{"Note":"Hello World"}' : '{}',
    tasks: {},
    waiting: [],
    ...over,
  };
}
const records = Array.from({ length: 100 }, (_, i) => rec(i));

function thrown(fn: () => unknown): QueryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseRunQuery', () => {
  it('reads relative and ISO times, trigger kind[:id], a status in any case, and leaves empty values out', () => {
    const q = parseRunQuery(
      { since: '24h', until: '2026-03-01', trigger: 'event:evt-4', status: 'failed', workflow: '', limit: '20' },
      'http',
      NOW,
    );
    expect(q).toEqual({
      since: '2026-02-28T12:00:00.000Z',
      until: '2026-03-01T00:00:00.000Z',
      trigger: { kind: 'event', id: 'evt-4' },
      status: 'FAILED',
      limit: 20,
    });
    expect(parseRunQuery({ since: '7d' }, 'cli', NOW).since).toBe('2026-02-22T12:00:00.000Z');
  });

  it('refuses a bad value naming the field as the caller wrote it and what to write', () => {
    const cli = thrown(() => parseRunQuery({ since: 'yesterday' }, 'cli', NOW));
    expect(cli.field).toBe('since');
    expect(cli.code).toBe('LF_QUERY_INVALID');
    expect(cli.message).toMatch(/^--since "yesterday".*24h/);
    expect(thrown(() => parseRunQuery({ since: '5' }, 'cli', NOW)).message).toMatch(/--since/);
    expect(
      thrown(() => parseRunQuery({ outputContains: '' as unknown as string, limit: '501' }, 'http', NOW)).message,
    ).toMatch(/^limit "501".*1 to 500/);
    expect(thrown(() => parseRunQuery({ trigger: 'webhook' }, 'cli', NOW)).message).toMatch(
      /--trigger.*event, schedule, parent, retry, manual/,
    );
    expect(thrown(() => parseRunQuery({ status: 'DONE' }, 'http', NOW)).field).toBe('status');
    expect(thrown(() => parseRunQuery({ cursor: 'abc' }, 'http', NOW)).field).toBe('cursor');
    expect(thrown(() => parseRunQuery({ colour: 'red' }, 'http', NOW)).message).toMatch(/colour is not a run filter/);
    expect(thrown(() => parseRunQuery({ since: '1h', until: '2d' }, 'cli', NOW)).message).toMatch(
      /--until .* is before --since/,
    );
  });
});

describe('matches and pageOf', () => {
  it('filters by workflow, status, trigger kind and id, agent, time range, run id prefix, output text (any case)', () => {
    const count = (raw: Record<string, unknown>) =>
      records.filter((r) => matches(r, parseRunQuery(raw, 'http', NOW))).length;
    expect(count({ workflow: 'odd' })).toBe(50);
    expect(count({ status: 'FAILED' })).toBe(34);
    expect(count({ trigger: 'event' })).toBe(25);
    expect(count({ trigger: 'event:evt-8' })).toBe(1);
    expect(count({ agent: 'alice' })).toBe(20);
    expect(count({ since: '10h' })).toBe(10);
    expect(count({ since: '2026-02-27T00:00:00Z', until: '2026-02-28T00:00:00Z' })).toBe(25);
    expect(count({ runId: 'run-09' })).toBe(10);
    expect(count({ outputContains: 'hello world' })).toBe(1);
  });

  it('pages newest or oldest first; following nextCursor gives every matching run once; total counts them all', () => {
    for (const order of ['newest', 'oldest'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = pageOf(
          records,
          parseRunQuery({ workflow: 'even', limit: '7', ...(cursor ? { cursor } : {}) }, 'http', NOW),
          order,
        );
        expect(page.total).toBe(50);
        seen.push(...page.runs.map((r) => r.runId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const expected = records.filter((r) => r.workflowId === 'even').map((r) => r.runId);
      expect(seen).toEqual(order === 'oldest' ? expected : [...expected].reverse());
    }
    const first = pageOf(records, { limit: 5 }, 'newest');
    expect(() => pageOf(records, { cursor: first.nextCursor! }, 'oldest')).toThrow(QueryError);
  });

  it('pages back with `before` from any page, one opened afresh included: each prevCursor gives the page before, the first has none', () => {
    const set = new RecordSet();
    set.putAll(records);
    const q = (extra: Record<string, string>) => parseRunQuery({ workflow: 'even', limit: '7', ...extra }, 'http', NOW);
    const forward: string[][] = [];
    const cursors: (string | undefined)[] = [];
    let cursor: string | undefined;
    do {
      const page = pageOf(records, q(cursor ? { cursor } : {}), 'newest');
      expect(page.prevCursor === null).toBe(cursor === undefined);
      forward.push(page.runs.map((r) => r.runId));
      cursors.push(cursor);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(forward.length).toBe(8);
    // From the last page (as a URL holding its cursor opens it), back to the first: on sorted records and on the index's set.
    for (const pageFn of [
      (x: Record<string, string>) => pageOf(records, q(x), 'newest'),
      (x: Record<string, string>) => set.page(q(x), 'newest'),
    ]) {
      let back = forward.length - 1;
      let page = pageFn({ cursor: cursors[back]! });
      expect(page.runs.map((r) => r.runId)).toEqual(forward[back]);
      while (page.prevCursor) {
        page = pageFn({ before: page.prevCursor });
        back--;
        expect(page.runs.map((r) => r.runId)).toEqual(forward[back]);
        expect(page.total).toBe(50);
      }
      expect(back).toBe(0);
      // A before-page pages on as any page does.
      expect(pageFn({ cursor: page.nextCursor! }).runs.map((r) => r.runId)).toEqual(forward[1]);
    }
    const c = pageOf(records, q({}), 'newest').nextCursor!;
    expect(thrown(() => parseRunQuery({ cursor: c, before: c }, 'http', NOW)).field).toBe('before');
  });

  it("an index's first page without a filter (read from its ends, not a pass over every run) is the page a pass gives", () => {
    for (const count of [0, 1, 7, 8, 9, 100]) {
      const some = records.slice(0, count);
      const set = new RecordSet();
      set.putAll([...some].reverse());
      for (const order of ['newest', 'oldest'] as const) {
        for (const limit of [1, 8, 200]) {
          const page = set.page({ limit }, order);
          expect(page, `${count} runs, ${order}, limit ${limit}`).toEqual(pageOf(some, { limit }, order));
          expect(page.total).toBe(count);
          // Its nextCursor pages on as a pass's does.
          if (page.nextCursor)
            expect(set.page({ limit, cursor: page.nextCursor }, order)).toEqual(
              pageOf(some, { limit, cursor: page.nextCursor }, order),
            );
        }
      }
    }
  });
});
