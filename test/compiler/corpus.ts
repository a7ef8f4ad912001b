/**
 * The definitions the fold is tested on: every bundled definition and test
 * fixture that parses, the seed's example, and shapes those files lack.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { ROOT } from '../helpers/cli.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return f.endsWith('.yaml') ? [path] : [];
  });
}

/** Every file that parses: bundled definitions, test fixtures, the seed's example. */
function fileDefinitions(): [string, Definition][] {
  const files = [...yamlFiles(join(ROOT, 'definitions')), ...yamlFiles(join(ROOT, 'test/fixtures')), join(ROOT, 'examples/inventory-validation.workflow.yaml')];
  return files.flatMap((file) => {
    if (!file.endsWith('.yaml') || file.includes('/expectations/')) return [];
    const { definition, diagnostics } = parseDefinition(readFileSync(file, 'utf8'), file);
    return definition && !diagnostics.some((d) => d.severity === 'error') ? [[relative(ROOT, file), definition] as [string, Definition]] : [];
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

function shapeDefinitions(): [string, Definition][] {
  return Object.entries(SHAPES).map(([name, tasks], n) => {
    const inputs = name.startsWith('maps') ? '  input:\n    optional:\n      - folders: [a, b]\n' : '';
    const text = `workflow:\n  id: shape-${n}\n  name: ${name}\n  version: 1\n${inputs}  output: [value]\n  tasks:\n${tasks.replace(/^\n/, '')}`;
    const { definition, diagnostics } = parseDefinition(text, `${name}.yaml`);
    if (!definition) throw new Error(`${name}: ${JSON.stringify(diagnostics)}`);
    return [`shape: ${name}`, definition];
  });
}

export const DEFINITIONS: [string, Definition][] = [...fileDefinitions(), ...shapeDefinitions()];

