/**
 * The definitions the fold is tested on: every bundled definition and test
 * fixture that parses, the seed's example, and shapes those files lack.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { ROOT } from '../helpers/cli.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const path = join(dir, f);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return f.endsWith('.yaml') ? [path] : [];
    });
}

/** Every file that parses: bundled definitions, test fixtures, the seed's example. */
function fileDefinitions(): [string, Definition][] {
  const files = [
    ...yamlFiles(join(ROOT, 'definitions')),
    ...yamlFiles(join(ROOT, 'test/fixtures')),
    join(ROOT, 'examples/inventory-validation.workflow.yaml'),
  ];
  return files.flatMap((file) => {
    if (!file.endsWith('.yaml') || file.includes('/expectations/')) return [];
    const { definition, diagnostics } = parseDefinition(readFileSync(file, 'utf8'), file);
    return definition && !diagnostics.some((d) => d.severity === 'error')
      ? [[relative(ROOT, file), definition] as [string, Definition]]
      : [];
  });
}

/** Shapes the files above do not have: every region kind regions.ts writes. */
const SHAPES: Record<string, string> = {
  // Two HUMAN tasks become ready in one step when b completes: their timers are armed in the order the actions run.
  'every on_timeout, approvals ready together': `
    - { id: b, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 30s }
    - { id: h10, type: HUMAN, approvers: [alice], timeout: 1h, on_timeout: approve }
    - { id: h2, type: HUMAN, timeout: 1h, on_timeout: skip }
    - { id: a, type: SIMPLE, depends_on: [b, h10] }
    - { id: h3, type: HUMAN, depends_on: [b], approvers: [bob, carol], timeout: 2h, on_timeout: reject }
    - { id: h1, type: HUMAN, depends_on: [b], timeout: 1h }
`,
  'fork, join, optional tasks, trigger rules': `
    - { id: fork, type: FORK, fork_tasks: [a, b] }
    - { id: a, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s, backoff: exponential, jitter: 0.5 }, timeout: 10s }
    - { id: b, type: SIMPLE, optional: true, retry_policy: { max_attempts: 2, initial_delay: 2s, backoff: linear } }
    - { id: join, type: JOIN, join_on: [a, b] }
    - { id: anyway, type: SIMPLE, depends_on: [join], trigger_rule: all_done }
    - { id: strict, type: SIMPLE, depends_on: [a, b], trigger_rule: all_success }
    - { id: last, type: SIMPLE, depends_on: [anyway, strict] }
`,
  'decisions that fail, tasks that do not run yet': `
    - { id: score, type: SIMPLE, output: [value] }
    - id: route
      type: DECISION
      depends_on: [score]
      decision_param: "\${score.output.value}"
      decision_cases:
        high: { next: [vip] }
        low: { next: [nowhere] }
        default: { next: [later] }
    - { id: vip, type: HUMAN, approvers: [boss], timeout: 1h }
    - { id: later, type: WAIT, duration: 1h }
    - { id: after, type: SIMPLE, depends_on: [vip, later], trigger_rule: all_done }
`,
  'waits on the clock, on a time, on signals (two WAITs on one name), with timeouts': `
    - { id: b, type: SIMPLE, output: [value] }
    - { id: nap, type: WAIT, duration: 10m }
    - { id: until, type: WAIT, depends_on: [b], until: "\${b.output.value}", optional: true }
    - { id: at, type: WAIT, depends_on: [b], until: "2026-01-01T10:00:00Z" }
    - { id: gate, type: WAIT, depends_on: [b], event: go, timeout: 1h }
    - { id: gate2, type: WAIT, depends_on: [nap], event: go, timeout: 30m, on_timeout: skip }
    - { id: open, type: WAIT, event: other }
    - { id: after, type: SIMPLE, depends_on: [until, at, gate, gate2, open], trigger_rule: all_done }
`,
  // SET merges variables a decision reads; either TERMINATE ends the run while side may still be running.
  'set variables, terminate early': `
    - { id: score, type: SIMPLE, output: [value] }
    - { id: side, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 30s }
    - id: remember
      type: SET
      depends_on: [score]
      values: { v: "\${score.output.value}", seen: true, note: "score \${score.output.value}" }
    - id: route
      type: DECISION
      depends_on: [remember]
      decision_param: "\${workflow.variables.v}"
      decision_cases:
        high: { next: [stop] }
        low: { next: [abort] }
        default: { next: [work] }
    - { id: stop, type: TERMINATE, status: COMPLETED, reason: "stopped at \${workflow.variables.v}" }
    - { id: abort, type: TERMINATE, status: FAILED, reason: "\${workflow.variables.note} is too low" }
    - { id: work, type: SIMPLE, timeout: 10s, input: { v: "\${workflow.variables.v}" } }
    - { id: again, type: SET, depends_on: [work], values: { v: done } }
`,
  // Child runs and events are attempts like a handler's (work regions); failure steps run only once a required task failed.
  'sub-workflows, EMIT, failure steps': `
    - { id: call, type: SUB_WORKFLOW, workflow: child, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 30s }
    - { id: tell, type: EMIT, depends_on: [call], event: told, data: { v: "\${call.output}" } }
    - { id: side, type: SIMPLE, optional: true }
    - { id: log_incident, type: SIMPLE }
    - { id: notify, type: HUMAN, depends_on: [log_incident], timeout: 1h, on_timeout: skip }
`,
  // DO_WHILE: a body with retries, a timeout, a decision, an optional task and an approval; a task after it reads the body.
  'a loop whose body branches, retries and waits': `
    - { id: prep, type: SIMPLE }
    - { id: poll, type: DO_WHILE, depends_on: [prep], loop_over: [check, route, fix, hold], loop_condition: "check.output.value < 50", max_iterations: 3 }
    - { id: check, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 10s }
    - id: route
      type: DECISION
      depends_on: [check]
      decision_cases:
        big: { condition: "check.output.value > 20", next: [fix] }
        default: { next: [hold] }
    - { id: fix, type: SIMPLE, optional: true }
    - { id: hold, type: HUMAN, timeout: 1h, on_timeout: skip }
    - { id: after, type: SIMPLE, depends_on: [check, poll], trigger_rule: all_done }
`,
  'an optional loop, a loop that never runs': `
    - { id: gate, type: SIMPLE, optional: true }
    - { id: again, type: DO_WHILE, optional: true, loop_over: [a, b], loop_condition: "\${again.output.iteration} < 4" }
    - { id: a, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s } }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: never, type: DO_WHILE, depends_on: [gate], trigger_rule: all_success, loop_over: [c], loop_condition: "c.output.value > 1", max_iterations: 3 }
    - { id: c, type: SIMPLE }
    - { id: end, type: SIMPLE, depends_on: [b, never], trigger_rule: all_done }
`,
  // MAP: items from the input (a list, empty, or not a list), slots, per-item retries and timeouts, an iterator body.
  'maps, handler and iterator bodies': `
    - { id: scan, type: SIMPLE }
    - id: fan
      type: MAP
      items: "\${workflow.input.folders}"
      handler: fetch
      input: { x: "\${item}", i: "\${index}" }
      max_concurrency: 2
      tolerate_failures: 1
      retry_policy: { max_attempts: 2, initial_delay: 1s }
      timeout: 30s
    - { id: body, type: SIMPLE, input: { y: "\${item}" }, retry_policy: { max_attempts: 3, initial_delay: 2s } }
    - { id: each, type: MAP, depends_on: [scan], items: "\${scan.output.value}", iterator: body, optional: true }
    - { id: after, type: SIMPLE, depends_on: [fan, each] }
`,
};

/** Top-level keys a shape needs besides its tasks. */
const HEADS: Record<string, string> = {
  'sub-workflows, EMIT, failure steps': '  failure_workflow:\n    steps: [log_incident, notify]\n',
};

function shapeDefinitions(): [string, Definition][] {
  return Object.entries(SHAPES).map(([name, tasks], n) => {
    const inputs = name.startsWith('maps') ? '  input:\n    optional:\n      - folders: [a, b]\n' : '';
    const text = `workflow:\n  id: shape-${n}\n  name: ${name}\n  version: 1\n${inputs}  output: [value]\n${HEADS[name] ?? ''}  tasks:\n${tasks.replace(/^\n/, '')}`;
    const { definition, diagnostics } = parseDefinition(text, `${name}.yaml`);
    if (!definition) throw new Error(`${name}: ${JSON.stringify(diagnostics)}`);
    return [`shape: ${name}`, definition];
  });
}

export const DEFINITIONS: [string, Definition][] = [...fileDefinitions(), ...shapeDefinitions()];
