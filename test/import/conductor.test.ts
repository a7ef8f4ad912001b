/** Conductor workflows (our own, in Conductor's format) imported: what each task type becomes, what is refused and why. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { httpTaskSupported, importConductor } from '../../src/import/index.js';
import { NotPlain } from '../../src/import/conductor/script.js';
import { translateCases, translateScript } from '../../src/import/conductor/translate.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'conductor');
const load = (name: string, asSimple?: string[]) =>
  importConductor(readFileSync(join(FIXTURES, name), 'utf8'), name, asSimple ? { asSimple } : {});
type Task = Record<string, unknown>;
const tasksOf = (yaml: string): Record<string, Task> =>
  Object.fromEntries((parse(yaml) as { workflow: { tasks: Task[] } }).workflow.tasks.map((t) => [t.id as string, t]));
const workflow = (json: object) => importConductor(JSON.stringify({ name: 'w', version: 1, ...json }), 'w.json');

describe('importing Conductor workflows', () => {
  it('keeps every task, in Conductor order, with switches, forks, joins, retries, timeouts, events and the failure workflow', () => {
    const r = load('order_fulfilment.json');
    expect(r.refusals).toEqual([]);
    const [def] = r.definitions;
    expect(parseDefinition(def!.yaml).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(def!.yaml.startsWith('# Imported by `ledgerflow import conductor` from order_fulfilment.json')).toBe(true);
    const wf = (parse(def!.yaml) as { workflow: Task }).workflow;
    expect(wf).toMatchObject({
      id: 'order_fulfilment',
      version: 2,
      timeout: '3600s',
      timeout_policy: 'fail',
      failure_workflow: { id: 'order_incident' },
      output: { shipment: '${ship_ref.output}', invoice: '${invoice_ref.output.number}' },
    });
    const t = tasksOf(def!.yaml);
    expect(Object.keys(t)).toEqual([
      'check_ref',
      'region_switch',
      'vat_ref',
      'remember_ref',
      'size_switch',
      'sign_off_ref',
      'fork_ref',
      'ship_ref',
      'invoice_ref',
      'cool_down_ref',
      'join_ref',
      'announce_ref',
      'done_ref',
    ]);
    expect(t.check_ref).toMatchObject({
      type: 'SIMPLE',
      handler: 'check_order',
      retry_policy: { max_attempts: 3, backoff: 'exponential', initial_delay: '5s' },
      timeout: '60s',
    });
    expect(t.region_switch).toMatchObject({
      type: 'DECISION',
      depends_on: 'check_ref',
      decision_param: '${workflow.input.region}',
      decision_cases: { eu: { next: 'vat_ref' }, default: { next: 'remember_ref' } },
    });
    expect(t.remember_ref).toMatchObject({ type: 'SET', values: { region: '${workflow.input.region}' } });
    expect(t.size_switch).toMatchObject({
      type: 'DECISION',
      depends_on: ['region_switch', 'vat_ref', 'remember_ref'],
      decision_cases: { large: { condition: '${workflow.input.amount} > 1000', next: 'sign_off_ref' } },
    });
    expect(Object.keys(t.size_switch!.decision_cases as object)).toEqual(['large']); // the empty case: nothing to run, no default
    expect(t.sign_off_ref).toMatchObject({ type: 'HUMAN' });
    expect(t.fork_ref).toMatchObject({
      type: 'FORK',
      depends_on: ['size_switch', 'sign_off_ref'],
      fork_tasks: ['ship_ref', 'invoice_ref'],
    });
    expect(t.ship_ref).toMatchObject({
      type: 'SUB_WORKFLOW',
      workflow: 'ship_order',
      version: 1,
      retry_policy: { max_attempts: 2 },
    });
    expect(t.invoice_ref).toMatchObject({ optional: true, input: { check: '${check_ref.output.status}' } });
    expect(t.cool_down_ref).toMatchObject({ type: 'WAIT', depends_on: 'invoice_ref', duration: '10s' });
    expect(t.join_ref).toMatchObject({ type: 'JOIN', join_on: ['ship_ref', 'cool_down_ref'] });
    expect(t.announce_ref).toMatchObject({
      type: 'EMIT',
      depends_on: 'join_ref',
      event: 'order_shipped',
      data: { runId: '${workflow.runId}' },
    });
    expect(t.done_ref).toMatchObject({
      type: 'TERMINATE',
      status: 'COMPLETED',
      reason: 'order ${workflow.input.orderId} shipped',
    });
  });

  it('translates a DO_WHILE with its body, a JavaScript DECISION inside it, a plain INLINE and a dynamic fork as a MAP', () => {
    const r = load('poll_report.json');
    expect(r.refusals).toEqual([]);
    const t = tasksOf(r.definitions[0]!.yaml);
    expect(t.poll_loop).toMatchObject({
      type: 'DO_WHILE',
      loop_over: ['check_ref', 'failed_decision', 'give_up_ref', 'pause_ref'],
      loop_condition:
        '(${poll_loop.output.iteration} < ${workflow.input.maxPolls}) && (${check_ref.output.state} != "READY")',
    });
    expect(t.check_ref!.depends_on).toBeUndefined();
    expect(t.failed_decision).toMatchObject({
      decision_cases: { stop: { condition: '${check_ref.output.state} == "FAILED"', next: 'give_up_ref' } },
    });
    expect(t.summary_ref).toMatchObject({
      type: 'SET',
      depends_on: 'poll_loop',
      values: { result: { state: '${check_ref.output.state}', polls: 'done' } },
    });
    expect(t.deliver_map).toMatchObject({
      type: 'MAP',
      items: '${request_ref.output.recipients}',
      handler: 'deliver_copy',
      input: { item: '${item}' },
    });
    expect(t.deliver_join).toMatchObject({ type: 'JOIN', join_on: ['deliver_map'] });
    expect(r.definitions[0]!.notes.join('\n')).toMatch(/loopCondition became/);
  });

  it('passes each ${…} Conductor pastes into INLINE, LAMBDA or jq text as an input, read where it stood', () => {
    const r = workflow({
      inputParameters: ['name', 'field'],
      tasks: [
        {
          name: 'greet',
          taskReferenceName: 'greet_ref',
          type: 'INLINE',
          inputParameters: {
            evaluatorType: 'javascript',
            expression:
              "(function () { var n = ${workflow.input.count}; return 'Hi ${workflow.input.name}!' + n + `/${workflow.input.count}`; })();",
          },
        },
        {
          name: 'pick',
          taskReferenceName: 'pick_ref',
          type: 'JSON_JQ_TRANSFORM',
          inputParameters: {
            doc: { a: 1 },
            queryExpression: '{ v: .doc.${workflow.input.field}, s: "f=${workflow.input.field}" }',
          },
        },
        {
          name: 'body',
          taskReferenceName: 'body_ref',
          type: 'LAMBDA',
          inputParameters: { v: 2, scriptExpression: 'if ($.v > 1) { return { big: true }; } return { big: false };' },
        },
      ],
    });
    expect(r.refusals).toEqual([]);
    const t = tasksOf(r.definitions[0]!.yaml);
    expect(t.greet_ref).toMatchObject({
      type: 'TRANSFORM',
      input: {
        _lf_ref1: '${workflow.input.count}',
        _lf_ref2: '${workflow.input.name}',
        _lf_ref3: '${workflow.input.count}',
      },
      js: "(function () { var n = ($._lf_ref1); return 'Hi ' + $._lf_ref2 + '!' + n + `/${$._lf_ref3}`; })();",
    });
    expect(t.pick_ref).toMatchObject({
      type: 'TRANSFORM',
      input: { doc: { a: 1 }, _lf_ref1: '${workflow.input.field}', _lf_ref2: '${workflow.input.field}' },
      jq: '._lf_ref1 as $_lf_ref1 | ._lf_ref2 as $_lf_ref2 | del(._lf_ref1, ._lf_ref2) | { v: .doc.[$_lf_ref1], s: "f=\\($_lf_ref2)" }',
    });
    expect(t.body_ref).toMatchObject({
      type: 'TRANSFORM',
      js: 'function scriptFun(){if ($.v > 1) { return { big: true }; } return { big: false };} scriptFun();',
    });
  });

  it('refuses what has no equivalent, naming every task, its type and why', () => {
    const r = load('unsupported.json');
    expect(r.definitions).toEqual([]);
    expect(r.refusals.map((x) => [x.task, x.type])).toEqual([
      ['format_ref', 'INLINE'],
      ['jq_ref', 'JSON_JQ_TRANSFORM'],
      ['kafka_ref', 'KAFKA_PUBLISH'],
    ]);
    expect(r.refusals[0]!.why).toMatch(
      /its script is the reference \$\{workflow\.input\.script\}: the program itself is chosen at run time/,
    );
    expect(r.refusals[1]!.why).toMatch(/the jq program itself is chosen at run time/);
  });

  it('writes HTTP tasks as type: HTTP, refused while the language lacks that type', () => {
    const r = load('http_status.json');
    if (httpTaskSupported()) {
      expect(r.refusals).toEqual([]);
      expect(tasksOf(r.definitions[0]!.yaml).status_ref).toMatchObject({
        type: 'HTTP',
        method: 'GET',
        url: '${workflow.input.url}/status',
        headers: { 'X-Caller': 'ledgerflow' },
      });
    } else {
      expect(r.refusals).toEqual([
        { task: 'status_ref', type: 'HTTP', why: expect.stringMatching(/needs ledgerflow's HTTP task type/) },
      ]);
    }
  });

  it('imports Orkes integrations as SIMPLE tasks whose handler makes the call, with a note (refused with --no-integrations); other types when asked (--as-simple)', () => {
    const llm = {
      name: 'summarise',
      taskReferenceName: 'llm_ref',
      type: 'LLM_CHAT_COMPLETE',
      inputParameters: { prompt: '${workflow.input.text}' },
    };
    const r = importConductor(JSON.stringify({ name: 'w', tasks: [llm] }), 'w.json');
    expect(r.refusals).toEqual([]);
    expect(tasksOf(r.definitions[0]!.yaml).llm_ref).toMatchObject({
      type: 'SIMPLE',
      handler: 'summarise',
      input: { prompt: '${workflow.input.text}' },
    });
    expect(r.definitions[0]!.yaml).toMatch(
      /# note: llm_ref \(LLM_CHAT_COMPLETE\): an Orkes integration its server runs: imported as a SIMPLE task, and a handler named summarise must make that call/,
    );
    const strict = importConductor(JSON.stringify({ name: 'w', tasks: [llm] }), 'w.json', { integrations: false });
    expect(strict.refusals[0]!.why).toMatch(/Orkes AI task/);
    const jdbc = { name: 'lookup', taskReferenceName: 'db_ref', type: 'JDBC' };
    expect(importConductor(JSON.stringify({ name: 'w', tasks: [jdbc] }), 'w.json').refusals[0]!.why).toMatch(
      /does not query databases/,
    );
    const asked = importConductor(JSON.stringify({ name: 'w', tasks: [jdbc] }), 'w.json', { asSimple: ['jdbc'] });
    expect(tasksOf(asked.definitions[0]!.yaml).db_ref).toMatchObject({ type: 'SIMPLE', handler: 'lookup' });
  });

  it('refuses a nested DO_WHILE, an unknown reference, a reference with no equivalent, and what is not a workflow', () => {
    const inner = {
      name: 'i',
      taskReferenceName: 'inner',
      type: 'DO_WHILE',
      loopCondition: "$.inner['iteration'] < 2",
      loopOver: [{ name: 'a', taskReferenceName: 'a', type: 'SIMPLE' }],
    };
    expect(
      workflow({
        tasks: [
          {
            name: 'o',
            taskReferenceName: 'outer',
            type: 'DO_WHILE',
            loopCondition: "$.outer['iteration'] < 2",
            loopOver: [inner],
          },
        ],
      }).refusals[0]!.why,
    ).toMatch(/does not nest loops/);
    // A reference to a task the workflow does not have is null at run time, as in Conductor: imported with a note naming it.
    const missing = workflow({
      tasks: [
        {
          name: 'a',
          taskReferenceName: 'a',
          type: 'SIMPLE',
          inputParameters: { x: '${nowhere.output.y}', s: 'at ${nowhere.output.y}' },
        },
      ],
    });
    expect(missing.refusals).toEqual([]);
    expect(tasksOf(missing.definitions[0]!.yaml).a).toMatchObject({ input: { x: null, s: 'at ' } });
    expect(missing.definitions[0]!.notes.join('\n')).toMatch(
      /\$\{nowhere\.output\.y\} names nowhere, which is no task of this workflow: Conductor resolves it to null/,
    );
    expect(
      workflow({
        tasks: [
          { name: 'a', taskReferenceName: 'a', type: 'SIMPLE', inputParameters: { x: '${workflow.correlationId}' } },
        ],
      }).refusals[0]!.why,
    ).toMatch(/\$\{workflow.correlationId\} has no ledgerflow equivalent/);
    expect(importConductor('{ nope', 'bad.json').refusals[0]!.why).toMatch(/^not JSON/);
    expect(importConductor('{"tasks": []}', 'bad.json').refusals[0]!.why).toMatch(
      /not a Conductor workflow definition: .*name/,
    );
  });

  it('imports JavaScript beyond plain comparisons as TRANSFORM js tasks: a SWITCH first in a case starts the case at its script, quoted references become inputs', () => {
    const inner = {
      name: 's',
      taskReferenceName: 'inner_switch',
      type: 'SWITCH',
      evaluatorType: 'graaljs',
      inputParameters: { n: '${workflow.input.n}' },
      expression: '[1, 2].includes($.n) ? "low" : "high"',
      decisionCases: { low: [{ name: 'l', taskReferenceName: 'low_ref', type: 'SIMPLE' }] },
    };
    const r = workflow({
      tasks: [
        {
          name: 'o',
          taskReferenceName: 'outer',
          type: 'SWITCH',
          evaluatorType: 'value-param',
          expression: 'k',
          inputParameters: { k: '${workflow.input.k}' },
          decisionCases: { a: [inner] },
        },
        {
          name: 'm',
          taskReferenceName: 'msg',
          type: 'INLINE',
          inputParameters: {
            evaluatorType: 'graaljs',
            expression: '"${workflow.input.name}".split(" ").map((w) => w[0]).join("")',
          },
        },
      ],
    });
    expect(r.refusals).toEqual([]);
    const t = tasksOf(r.definitions[0]!.yaml);
    expect(t.outer).toMatchObject({ decision_cases: { a: { next: 'inner_switch_js' } } });
    expect(t.inner_switch_js).toMatchObject({
      type: 'TRANSFORM',
      input: { n: '${workflow.input.n}' },
      js: '[1, 2].includes($.n) ? "low" : "high"',
    });
    expect(t.inner_switch).toMatchObject({
      type: 'DECISION',
      depends_on: 'inner_switch_js',
      decision_param: '${inner_switch_js.output.result}',
    });
    expect(t.msg).toMatchObject({
      type: 'TRANSFORM',
      input: { _lf_ref1: '${workflow.input.name}' },
      js: '$._lf_ref1.split(" ").map((w) => w[0]).join("")',
    });
  });

  it('refuses, naming the task, a script QuickJS cannot parse, as validate would', async () => {
    const dir = tempDir('lf-conductor-js-');
    const bad = {
      name: 'bad_script',
      tasks: [
        {
          name: 'f',
          taskReferenceName: 'f_ref',
          type: 'INLINE',
          inputParameters: {
            evaluatorType: 'graaljs',
            expression: '(function () { return [1, 2].map((x) => x +); })();',
          },
        },
      ],
    };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    const r = await cli(['import', 'conductor', 'bad.json', '--out', 'out', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      imported: unknown[];
      refused: { reasons: { task: string; type: string; why: string }[] }[];
    };
    expect(report.imported).toEqual([]);
    expect(report.refused[0]!.reasons).toEqual([
      {
        task: 'f_ref',
        type: 'TRANSFORM',
        why: expect.stringMatching(
          /^ledgerflow validation: TRANSFORM task f_ref: its JavaScript does not parse at line 1, col \d+ of the script: SyntaxError: .*\(LF_JS_SYNTAX\)$/,
        ),
      },
    ]);
  });

  it("reads a Conductor HTTP task's response from ledgerflow's output, imports QUERY_PROCESSOR as an integration and WAIT_FOR_WEBHOOK as a WAIT on a signal", () => {
    const r = workflow({
      tasks: [
        {
          name: 'h',
          taskReferenceName: 'call',
          type: 'HTTP',
          inputParameters: { http_request: { uri: 'https://api.example.com/x', method: 'GET' } },
        },
        {
          name: 'q',
          taskReferenceName: 'query',
          type: 'QUERY_PROCESSOR',
          inputParameters: {
            code: '${call.output.response.statusCode}',
            ct: '${call.output.response.headers.Content-Type[0]}',
            id: "${call.output.response.body['id']}",
          },
        },
        {
          name: 'w',
          taskReferenceName: 'hook',
          type: 'WAIT_FOR_WEBHOOK',
          inputParameters: { matches: { "$['event']['type']": 'message' } },
        },
      ],
    });
    expect(r.refusals).toEqual([]);
    const t = tasksOf(r.definitions[0]!.yaml);
    expect(t.query).toMatchObject({
      type: 'SIMPLE',
      handler: 'q',
      input: { code: '${call.output.status}', ct: '${call.output.headers.content-type}', id: '${call.output.body.id}' },
    });
    expect(t.hook).toMatchObject({ type: 'WAIT', event: 'hook' });
    expect(r.definitions[0]!.notes.join('\n')).toMatch(
      /hook \(WAIT_FOR_WEBHOOK\): a WAIT on the signal hook: .*ledgerflow signal <runId> hook --data '<body>'/,
    );
    expect(
      importConductor(
        JSON.stringify({ name: 'w', tasks: [{ name: 'q', taskReferenceName: 'query', type: 'QUERY_PROCESSOR' }] }),
        'w.json',
        { integrations: false },
      ).refusals[0]!.type,
    ).toBe('QUERY_PROCESSOR');
    const env = workflow({
      tasks: [
        {
          name: 'h',
          taskReferenceName: 'call',
          type: 'HTTP',
          inputParameters: {
            http_request: {
              uri: 'https://api.example.com/x',
              method: 'GET',
              headers: { Authorization: 'Bearer ${workflow.env.GH_TOKEN}' },
            },
          },
        },
      ],
    });
    expect(tasksOf(env.definitions[0]!.yaml).call).toMatchObject({
      headers: { Authorization: 'Bearer ${secrets.GH_TOKEN}' },
    });
    expect(env.definitions[0]!.notes.join('\n')).toContain('${workflow.env.GH_TOKEN} became ${secrets.GH_TOKEN}');
  });

  it('renames ids that are not ledgerflow ids and keeps the references to them', () => {
    const r = workflow({
      tasks: [
        { name: 'a', taskReferenceName: 'fetch.data', type: 'SIMPLE' },
        { name: 'b', taskReferenceName: 'use', type: 'SIMPLE', inputParameters: { d: "${fetch.data.output['rows']}" } },
      ],
    });
    expect(r.refusals).toEqual([]);
    expect(tasksOf(r.definitions[0]!.yaml).use).toMatchObject({
      depends_on: 'fetch_data',
      input: { d: '${fetch_data.output.rows}' },
    });
  });
});

describe('JavaScript that is a plain comparison', () => {
  const dollar = (path: string[]) => `\${workflow.input.${path.join('.')}}`;
  const none = () => null;
  it.each([
    ["$.status != 'Completed'", '${workflow.input.status} != "Completed"'],
    ['if ($.approved) { false;} else { true;}', '!(${workflow.input.approved})'],
    [
      "if ($.loop['iteration'] < $.value) { true; } else { false; }",
      '${workflow.input.loop.iteration} < ${workflow.input.value}',
    ],
    ['(function(){ return $.a > 3 && $.b; })();', '(${workflow.input.a} > 3) && ${workflow.input.b}'],
    ['function check() { var n = $.list; return n.length > 0; } check();', 'len(${workflow.input.list}) > 0'],
    ['$.actions.indexOf($.wanted) >= 0', 'contains(${workflow.input.actions}, ${workflow.input.wanted})'],
    [
      '$.resultCount != null && $.resultCount > 0',
      '(${workflow.input.resultCount} != null) && (${workflow.input.resultCount} > 0)',
    ],
  ])('%s', (script, condition) => {
    expect(translateScript(script, dollar, none)).toBe(condition);
  });

  it.each([
    ['(function () { return new Date().toISOString(); })();', /"new"/],
    ['for (var i = 0; i < 3; i++) {}', /"for" statement/],
    ['$.x.map(y => y)', /arrow function/],
    ['$.a = 1', /assignment/],
    ['$.name.substring(2) == "x"', /\.substring\(\)/],
  ])('refuses %s', (script, why) => {
    expect(() => translateScript(script, dollar, none)).toThrow(NotPlain);
    expect(() => translateScript(script, dollar, none)).toThrow(why);
  });

  it('gives each case of a ternary chain its own condition', () => {
    const { conditions } = translateCases(
      "$.n > 10 ? 'big' : $.n > 5 ? 'mid' : 'small'",
      ['big', 'mid', 'small'],
      dollar,
      none,
    );
    expect(conditions).toEqual({
      big: '${workflow.input.n} > 10',
      mid: '!(${workflow.input.n} > 10) && (${workflow.input.n} > 5)',
      small: '!(${workflow.input.n} > 10) && !(${workflow.input.n} > 5)',
    });
  });
});

describe('ledgerflow import conductor, a folder', () => {
  it('writes every workflow it can into --out, which then validates there (sub-workflows beside them), and exits 1 for the refused', async () => {
    const out = tempDir('lf-import-');
    const r = await cli(['import', 'conductor', FIXTURES, '--out', out, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { imported: { workflowId: string }[]; refused: { file: string }[] };
    expect(report.imported.map((i) => i.workflowId).sort()).toEqual([
      ...(httpTaskSupported() ? ['http_status'] : []),
      'order_fulfilment',
      'order_incident',
      'poll_report',
      'ship_order',
    ]);
    expect(report.refused.map((x) => x.file.split('/').pop()).sort()).toEqual(
      httpTaskSupported() ? ['unsupported.json'] : ['http_status.json', 'unsupported.json'],
    );
    const files = readdirSync(out).map((f) => join(out, f));
    const v = await cli(['validate', '--strict', ...files]);
    expect(v.code, v.stderr).toBe(0);
  });
});
