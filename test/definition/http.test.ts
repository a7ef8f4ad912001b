import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';
import { RUNNABLE_TASK_TYPES, TASK_TYPES } from '../../src/definition/index.js';

describe('HTTP tasks (docs/language.md#http-call-a-service)', () => {
  it("normalise to a request that is the attempt's input, and are a runnable task type", () => {
    const r = parse(
      wf(
        '    - id: get\n      type: HTTP\n      method: post\n      url: "https://api.example.com/c/${workflow.input.folder}"\n      headers: { Authorization: "Bearer ${secrets.TOKEN}", X-Count: 2 }\n      query: { expand: addresses }\n      body: { id: "${workflow.input.folder}", n: 1 }\n      expect: 201\n      max_response_body: 64KiB\n      timeout: 5s\n',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks[0]).toMatchObject({
      type: 'HTTP',
      method: 'POST',
      url: 'https://api.example.com/c/${workflow.input.folder}',
      expect: [201],
      maxResponseBytes: 65536,
      input: {
        method: 'POST',
        url: 'https://api.example.com/c/${workflow.input.folder}',
        headers: { Authorization: 'Bearer ${secrets.TOKEN}', 'X-Count': '2' },
        query: { expand: 'addresses' },
        body: { id: '${workflow.input.folder}', n: 1 },
        expect: [201],
        max_response_bytes: 65536,
        timeout_ms: 5000,
      },
    });
    expect(TASK_TYPES).toContain('HTTP');
    expect(RUNNABLE_TASK_TYPES).toContain('HTTP');
  });

  it('defaults to GET, expect 2xx and 256 KiB of body', () => {
    const r = parse(wf('    - id: get\n      type: HTTP\n      url: https://api.example.com/x\n'));
    expect(r.definition!.tasks[0]).toMatchObject({
      method: 'GET',
      expect: ['2xx'],
      maxResponseBytes: 256 * 1024,
      headers: {},
      query: {},
    });
  });

  it('needs a url, and says so at the task', () => {
    const text = wf('    - id: get\n      type: HTTP\n');
    expect(only(parse(text), 'LF_MISSING_FIELD').message).toContain('HTTP task get needs url');
  });

  it('refuses a size that is none for max_response_body, at its line:col', () => {
    const text = wf(
      '    - id: get\n      type: HTTP\n      url: https://api.example.com/x\n      max_response_body: lots\n',
    );
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain('expected a size');
    expect(d).toMatchObject(pos(text, 'lots'));
  });

  it('allows ${secrets.NAME} in url, headers, query and body, and warns that input and handler are ignored', () => {
    const r = parse(
      wf(
        '    - id: get\n      type: HTTP\n      url: "https://${secrets.HOST}/x"\n      query: { key: "${secrets.KEY}" }\n      handler: h\n      input: { a: 1 }\n',
      ),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics.filter((d) => d.code === 'LF_FIELD_IGNORED').map((d) => d.message)).toEqual([
      "handler is ignored on HTTP task get: it sends its request (url, headers, query, body), not a handler's input",
      "input is ignored on HTTP task get: it sends its request (url, headers, query, body), not a handler's input",
    ]);
  });

  it('warns that HTTP fields are ignored on another type', () => {
    const r = parse(wf('    - id: a\n      type: SIMPLE\n      url: https://api.example.com/x\n'));
    expect(only(r, 'LF_FIELD_IGNORED').message).toBe('url is ignored on SIMPLE task a (it applies to HTTP)');
  });
});
