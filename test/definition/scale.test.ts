import { describe, expect, it } from 'vitest';
import { parse } from './helpers.js';

/** t1 → t2 → … → tn, each task reading its predecessor's output and the first task's. */
function chain(n: number): string {
  const lines = ['workflow:', '  id: long-chain', '  tasks:', '    - { id: t1, type: SIMPLE, output: [v] }'];
  for (let i = 2; i <= n; i++) {
    lines.push(
      `    - { id: t${i}, type: SIMPLE, depends_on: t${i - 1}, output: [v], input: { prev: "\${t${i - 1}.output.v}", first: "\${t1.output.v}" } }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('validation scales linearly with the number of tasks', () => {
  // Quadratic checks (every task's full upstream set, a scan of all tasks per reference) took 82 s here.
  it('validates a 5,000-task chain (the most a definition may have) within the test timeout', () => {
    const text = chain(5_000);
    const started = performance.now();
    const r = parse(text);
    console.log(`validated a 5,000-task chain in ${Math.round(performance.now() - started)} ms`);
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks).toHaveLength(5_000);
  });

  it('still finds a reference to a task that is not upstream, at the end of a long chain', () => {
    const text = chain(3_000).replace('"${t1.output.v}" } }\n', '"${t1.output.v}", late: "${t3000.output.v}" } }\n');
    const r = parse(text);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['LF_TEMPLATE_NOT_UPSTREAM']);
    expect(r.diagnostics[0]!.message).toContain('names task t3000, which is not upstream of t2');
  });
});
