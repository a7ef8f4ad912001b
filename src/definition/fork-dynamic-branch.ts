/**
 * What a FORK_DYNAMIC branch of a type other than SIMPLE or SUB_WORKFLOW runs (fork-dynamic.ts parses the list): an
 * HTTP branch's request, built as an HTTP task's input is (definition/http.ts: the HTTP executor at the edge reads it,
 * with its allow-list and limits), and a TRANSFORM branch's program (jq or js, run by the executor as a TRANSFORM
 * task's is). Both read Conductor's shapes as well as ledgerflow's: `http_request: { uri, method, headers, body, accept,
 * contentType }`; JSON_JQ_TRANSFORM's `queryExpression`, INLINE's `expression`, LAMBDA's `scriptExpression`.
 */
import { DEFAULT_HTTP_RESPONSE_BYTES, isStatusPattern, parseSize } from './http.js';
import { HTTP_METHODS } from './task-types.js';

/** The element types a branch may be written with, and the branch type each becomes. */
export const BRANCH_TYPE_OF: Readonly<Record<string, 'SIMPLE' | 'SUB_WORKFLOW' | 'HTTP' | 'TRANSFORM'>> = {
  SIMPLE: 'SIMPLE',
  SUB_WORKFLOW: 'SUB_WORKFLOW',
  HTTP: 'HTTP',
  TRANSFORM: 'TRANSFORM',
  JSON_JQ_TRANSFORM: 'TRANSFORM',
  INLINE: 'TRANSFORM',
  LAMBDA: 'TRANSFORM',
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const scalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A map of names to texts (header or query values), or the message saying what is wrong with it. */
function texts(v: unknown, what: string): Record<string, string> | string {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) return `its ${what} is not a map of names to values`;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    // Conductor's headers may hold a list per name (as its responses do): the first is sent.
    const one = Array.isArray(x) && x.length > 0 ? x[0] : x;
    if (!scalar(one)) return `its ${what} ${k} is not a text`;
    out[k] = String(one);
  }
  return out;
}

/**
 * An HTTP branch's request (what the HTTP executor sends), from its input: `{ method, url, headers, query, body,
 * expect, max_response_body }` or Conductor's `http_request: { uri, method, headers, body, accept, contentType }` (the
 * input itself when it has no http_request, as Orkes' simplified form). Or the message saying what is wrong with it.
 */
export function httpBranchRequest(
  input: Record<string, unknown>,
  timeoutMs: number | undefined,
): Record<string, unknown> | string {
  const req = isObj(input.http_request) ? input.http_request : input;
  const method = String(req.method ?? 'GET').toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method))
    return `its method ${String(req.method).slice(0, 40)} is none of ${HTTP_METHODS.join(', ')}`;
  const url = req.url ?? req.uri;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url))
    return 'its request has no url (or uri) starting with http:// or https://';
  const headers = texts(req.headers, 'header');
  if (typeof headers === 'string') return headers;
  const query = texts(req.query, 'query parameter');
  if (typeof query === 'string') return query;
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  // Conductor's accept and contentType are headers.
  if (typeof req.accept === 'string' && !has('accept')) headers.Accept = req.accept;
  if (typeof req.contentType === 'string' && !has('content-type')) headers['Content-Type'] = req.contentType;
  const expect = req.expect === undefined ? ['2xx'] : Array.isArray(req.expect) ? req.expect : [req.expect];
  if (expect.length === 0 || !expect.every(isStatusPattern))
    return 'its expect is not a status (100-599), a class like 2xx, or a list of them';
  const bytes = req.max_response_body === undefined ? DEFAULT_HTTP_RESPONSE_BYTES : parseSize(req.max_response_body);
  if (bytes === undefined) return 'its max_response_body is not a size (bytes, or e.g. 64KiB)';
  return {
    method,
    url,
    headers,
    query,
    ...(req.body !== undefined ? { body: req.body } : {}),
    expect: expect.map((e) => (typeof e === 'string' ? e.toLowerCase() : e)),
    max_response_bytes: bytes,
    ...(timeoutMs !== undefined ? { timeout_ms: timeoutMs } : {}),
  };
}

/** Parameters that say how Conductor evaluates a script rather than give it a value: not part of `$`. */
const PROGRAM_KEYS = new Set(['queryExpression', 'expression', 'evaluatorType', 'scriptExpression']);

/**
 * A TRANSFORM branch's program and the input it runs over, from the element (`jq:` / `js:`, ledgerflow's) or its
 * input (Conductor's `queryExpression`, INLINE's `expression`, LAMBDA's `scriptExpression`, run as Conductor runs it:
 * `function scriptFun(){<body>} scriptFun();`). Or the message saying what is missing.
 */
export function transformBranch(
  written: string,
  element: { jq?: unknown; js?: unknown },
  input: Record<string, unknown>,
): { transform: { jq: string } | { js: string }; input: Record<string, unknown> } | string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!PROGRAM_KEYS.has(k)) rest[k] = v;
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  if (written === 'TRANSFORM') {
    const jq = text(element.jq);
    const js = text(element.js);
    if ((jq === undefined) === (js === undefined)) return 'a TRANSFORM branch needs one program: jq or js';
    return { transform: jq !== undefined ? { jq } : { js: js! }, input };
  }
  if (written === 'JSON_JQ_TRANSFORM') {
    const jq = text(input.queryExpression);
    return jq === undefined ? 'its input has no queryExpression (the jq program)' : { transform: { jq }, input: rest };
  }
  if (written === 'LAMBDA') {
    const body = text(input.scriptExpression);
    return body === undefined
      ? 'its input has no scriptExpression (the script)'
      : { transform: { js: `function scriptFun(){${body}} scriptFun();` }, input: rest };
  }
  // INLINE: javascript (graaljs is the same language); Conductor's value-param evaluator reads no script.
  const evaluator = String(input.evaluatorType ?? 'javascript');
  if (evaluator !== 'javascript' && evaluator !== 'graaljs')
    return `its evaluatorType ${evaluator.slice(0, 40)} is not javascript or graaljs`;
  const js = text(input.expression);
  return js === undefined ? 'its input has no expression (the script)' : { transform: { js }, input: rest };
}
