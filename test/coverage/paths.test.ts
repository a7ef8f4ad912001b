/** The path generator: bounded on wide workflows, decisions found from conditions, every HUMAN outcome, explanations. */
import { describe, expect, it } from 'vitest';
import { generatePaths, itemKey, runPath, type PathReport } from '../../src/coverage/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { def } from '../helpers/engine.js';

const wf = (tasks: string, extra = '') => `workflow:\n  id: t\n  name: T\n  version: 1\n${extra}  tasks:\n${tasks}`;

/** n independent tasks with retries (and optionally a timeout), all joined by one. */
function wide(n: number, opts = ''): string {
  const ids = Array.from({ length: n }, (_, i) => `t${i}`);
  return wf(
    `${ids.map((id) => `    - { id: ${id}, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s }${opts} }\n`).join('')}    - { id: join, type: SIMPLE, depends_on: [${ids.join(', ')}] }\n`,
  );
}

/** 100% of what is counted, and nothing covered that was ruled out as impossible. */
const complete = (r: PathReport) => {
  const excluded = new Set(r.excluded.map(itemKey));
  const wrong = r.paths.flatMap((p) => p.covers.filter((k) => excluded.has(k)));
  expect(wrong, 'covered but excluded').toEqual([]);
  return [r.coverage.states, r.coverage.transitions, r.coverage.decisionCases].every((t) => t.covered === t.total);
};

async function expectAllPass(text: string, report: PathReport): Promise<void> {
  for (const p of report.paths) {
    const r = await runPath(def(text), p);
    expect(r.failure, p.name).toBeNull();
  }
}

describe('wide parallel workflows', () => {
  it('get a number of paths linear in the number of tasks, not one per interleaving', () => {
    const counts = [4, 8, 12].map((n) => {
      const r = generatePaths(def(wide(n)));
      expect(complete(r), `n=${n}`).toBe(true);
      return r.paths.length;
    });
    // Each task: retries then succeeds, fails after 3 attempts; plus the happy path and the join failing.
    expect(counts).toEqual([10, 18, 26]);
    const withTimeouts = [4, 12].map((n) => generatePaths(def(wide(n, ', timeout: 30s'))).paths.length);
    expect(withTimeouts).toEqual([18, 50]);
  });

  it('every path of 12 parallel tasks with retries runs on the runtime as the model says', async () => {
    const text = wide(12);
    await expectAllPass(text, generatePaths(def(text)));
  });
});

describe('decisions', () => {
  const text = wf(`    - { id: score, type: SIMPLE, output: [value, tier, flag] }
    - id: route
      type: DECISION
      depends_on: [score]
      decision_cases:
        high: { condition: "\${score.output.value} > 80", next: [vip] }
        gold: { condition: "\${score.output.value} >= 50 && \${score.output.tier} == 'gold'", next: [standard] }
        flagged: { condition: "score.output.flag == true", next: [review] }
        never: { condition: "score.output.value > 5 && score.output.value < 5", next: [ghost] }
        default: { next: [reject] }
    - { id: vip, type: SIMPLE }
    - { id: standard, type: SIMPLE }
    - { id: review, type: HUMAN }
    - { id: ghost, type: SIMPLE }
    - { id: reject, type: SIMPLE }
`);

  it('finds outputs that choose each case from its condition, and explains the one nothing chooses', async () => {
    const r = generatePaths(def(text));
    const names = r.paths.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'route=high → vip ✓',
        'route=gold → standard ✓',
        'route=flagged → review approved ✓',
        'route=default → reject ✓',
      ]),
    );
    const gold = r.paths.find((p) => p.name === 'route=gold → standard ✓')!;
    const output = gold.events.find((e) => e.type === 'task.completed' && e.data.task === 'score')!;
    expect(output.type === 'task.completed' && output.data.output).toMatchObject({ tier: 'gold' });
    expect(r.coverage.decisionCases).toEqual({ covered: 4, total: 5 });
    const never = r.uncovered.find((u) => u.kind === 'decisionCase')!;
    expect(never).toMatchObject({ task: 'route', item: 'never' });
    expect(never.reason).toContain('condition: score.output.value > 5 && score.output.value < 5');
    expect(never.reason).toContain('script it in an expectation');
    const ghost = r.uncovered.filter((u) => u.task === 'ghost');
    expect(ghost.length).toBeGreaterThan(0);
    for (const u of ghost)
      expect(u.reason).toBe(
        'task ghost runs only when route chooses never, which no generated path does (see that case); script it in an expectation',
      );
    await expectAllPass(text, r);
  });

  it('a decision_param picks the case named by the output it reads; a case routing to an unknown task is explained as the validation warning says', () => {
    const text2 = wf(`    - { id: check, type: SIMPLE, output: [status] }
    - id: gate
      type: DECISION
      depends_on: [check]
      decision_param: "\${check.output.status}"
      decision_cases:
        OK: { next: [ship] }
        SOFT: { next: [missing_task] }
    - { id: ship, type: SIMPLE }
`);
    const { diagnostics } = parseDefinition(text2, 't.yaml');
    const warning = diagnostics.find((d) => d.code === 'LF_UNKNOWN_CASE_TARGET')!;
    const r = generatePaths(def(text2));
    expect(r.paths.map((p) => [p.name, p.outcome])).toEqual(
      expect.arrayContaining([
        ['gate=OK → ship ✓', 'COMPLETED'],
        ['gate=SOFT → unknown task missing_task → run FAILED', 'FAILED'],
      ]),
    );
    const soft = r.uncovered.find((u) => u.item === 'SOFT')!;
    expect(soft.code).toBe('LF_UNKNOWN_CASE_TARGET');
    expect(soft.reason.startsWith(warning.message)).toBe(true);
  });

  it('a task that can never run is explained by the reachability warning, word for word', () => {
    const text3 = wf(`    - { id: check, type: SIMPLE }
    - id: gate
      type: DECISION
      depends_on: [check]
      decision_param: "\${check.output.s}"
      decision_cases:
        A: { next: [a] }
        B: { next: [b] }
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE }
    - { id: both, type: SIMPLE, depends_on: [a, b], trigger_rule: all_success }
`);
    const warning = parseDefinition(text3, 't.yaml').diagnostics.find((d) => d.code === 'LF_TASK_NEVER_RUNS')!;
    const r = generatePaths(def(text3));
    const both = r.uncovered.filter((u) => u.task === 'both');
    expect(both.map((u) => u.item)).toEqual(
      expect.arrayContaining(['scheduled', 'running', 'done', 'pending → scheduled']),
    );
    for (const u of both) expect(u).toMatchObject({ code: 'LF_TASK_NEVER_RUNS', reason: warning.message });
  });
});

describe('HUMAN tasks', () => {
  const human = (onTimeout: string) =>
    wf(`    - { id: prepare, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [prepare], approvers: [cfo], timeout: 1h, on_timeout: ${onTimeout} }
    - { id: book, type: SIMPLE, depends_on: [sign] }
`);

  it.each([
    ['fail', 'FAILED', 'TIMED_OUT'],
    ['reject', 'FAILED', 'FAILED'],
    ['approve', 'COMPLETED', 'COMPLETED'],
    ['skip', 'COMPLETED', 'SKIPPED'],
  ])(
    'approval, rejection and an approval deadline that ends with on_timeout: %s',
    async (onTimeout, outcome, status) => {
      const text = human(onTimeout);
      const r = generatePaths(def(text));
      const byName = new Map(r.paths.map((p) => [p.name, p]));
      expect(byName.get('sign approved ✓')?.outcome).toBe('COMPLETED');
      expect(byName.get('sign rejected → run FAILED')!.tasks.sign!.status).toBe('FAILED');
      const timeout = r.paths.find((p) => p.name.startsWith(`sign approval times out (on_timeout: ${onTimeout})`))!;
      expect([timeout.outcome, timeout.tasks.sign!.status]).toEqual([outcome, status]);
      const approval = byName.get('sign approved ✓')!.events.find((e) => e.type === 'approval.recorded');
      expect(approval?.type === 'approval.recorded' && approval.data.by).toBe('cfo');
      expect(complete(r)).toBe(true);
      await expectAllPass(text, r);
    },
  );
});

describe('running a path', () => {
  it('names the first event where the runtime and the model differ', async () => {
    const model = wf('    - { id: flaky, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s } }\n');
    const path = generatePaths(def(model)).paths.find((p) => p.name === 'flaky fails after 3 attempts → run FAILED')!;
    // The definition changed: one attempt fewer. The second failure is now the last.
    const changed = def(model.replace('max_attempts: 3', 'max_attempts: 2'));
    const r = await runPath(changed, path);
    expect(r.ok).toBe(false);
    expect(r.atEvent).toBe(4);
    expect(r.failure).toBe(
      "event 5 of the path (task.failed flaky #2): the runtime's state after it (FAILED, " +
        r.failure!.split('(FAILED, ')[1],
    );
    expect(r.failure).toMatch(/differs from the model's \(RUNNING, [0-9a-f]{16}\)$/);
  });
});

describe('bounded on decisions too', () => {
  /** k decisions one after the other, each choosing between two branches that join again. */
  function chain(k: number): string {
    let tasks = '    - { id: s0, type: SIMPLE, output: [v] }\n';
    for (let i = 0; i < k; i++) {
      tasks += `    - { id: d${i}, type: DECISION, depends_on: [s${i}], decision_param: "\${s${i}.output.v}", decision_cases: { A: { next: [a${i}] }, B: { next: [b${i}] } } }\n`;
      tasks += `    - { id: a${i}, type: SIMPLE }\n    - { id: b${i}, type: SIMPLE }\n    - { id: s${i + 1}, type: SIMPLE, depends_on: [a${i}, b${i}], output: [v] }\n`;
    }
    return wf(tasks);
  }
  /** k independent decisions side by side, all joined at the end. */
  function side(k: number): string {
    let tasks = '';
    for (let i = 0; i < k; i++) {
      tasks += `    - { id: s${i}, type: SIMPLE, output: [v] }\n    - { id: d${i}, type: DECISION, depends_on: [s${i}], decision_param: "\${s${i}.output.v}", decision_cases: { A: { next: [a${i}] }, B: { next: [b${i}] } } }\n`;
      tasks += `    - { id: a${i}, type: SIMPLE }\n    - { id: b${i}, type: SIMPLE }\n`;
    }
    return wf(
      `${tasks}    - { id: end, type: SIMPLE, depends_on: [${Array.from({ length: k }, (_, i) => `a${i}, b${i}`).join(', ')}] }\n`,
    );
  }

  it.each([
    ['one after the other', chain],
    ['side by side', side],
  ])('k decisions %s: paths grow linearly, every case is covered', (_, make) => {
    const counts = [2, 4, 6].map((k) => {
      const r = generatePaths(def(make(k)));
      expect(complete(r), `k=${k}`).toBe(true);
      return r.paths.length;
    });
    expect(counts[2]! - counts[1]!).toBe(counts[1]! - counts[0]!);
  });
});

describe('DO_WHILE', () => {
  const poll = wf(`    - { id: submit, type: SIMPLE }
    - { id: wait_ready, type: DO_WHILE, depends_on: [submit], loop_over: [check, fix], loop_condition: "check.output.ready == false", max_iterations: 3 }
    - { id: check, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s } }
    - { id: fix, type: SIMPLE, depends_on: [check], optional: true }
    - { id: publish, type: SIMPLE, depends_on: [check] }
`);

  it('covers a loop run once, more than once and to its limit, every body state included, and each path runs on the runtime', async () => {
    const r = generatePaths(def(poll));
    expect(complete(r)).toBe(true);
    const names = r.paths.map((p) => p.name);
    expect(names).toContain('every task succeeds ✓');
    expect(names.some((n) => /^wait_ready runs 2 iterations/.test(n))).toBe(true);
    const limit = r.paths.find((p) => p.name.startsWith('wait_ready reaches its limit (3 iterations)'))!;
    expect(limit.outcome).toBe('FAILED');
    expect(
      limit.events
        .filter((e) => e.type === 'task.started' && e.data.task === 'check')
        .map((e) => (e.data as { iteration?: number }).iteration),
    ).toEqual([1, 2, 3]);
    // Once (looping → done), again (looping → looping), to the limit (looping → failed): counted, and covered.
    expect(r.tasks.wait_ready).toEqual({
      states: { covered: 5, total: 5 },
      transitions: { covered: 5, total: 5 },
      decisionCases: { covered: 0, total: 0 },
    });
    // A required body task's failure fails the loop: no iteration follows it, and that is said.
    expect(r.excluded).toContainEqual(expect.objectContaining({ task: 'check', item: 'iteration_failed → pending' }));
    await expectAllPass(poll, r);
  });
});

describe('other shapes', () => {
  it('FORK/JOIN with an optional branch: its failure skips the join, the run still completes', async () => {
    const text = wf(`    - { id: fork, type: FORK, fork_tasks: [a, b] }
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, optional: true }
    - { id: join, type: JOIN, join_on: [a, b] }
    - { id: after, type: SIMPLE, depends_on: [join] }
`);
    const r = generatePaths(def(text));
    expect(complete(r)).toBe(true);
    const optional = r.paths.find((p) => p.name === 'b fails (optional, no retries) → run COMPLETED')!;
    expect([optional.outcome, optional.tasks.join!.status, optional.tasks.after!.status]).toEqual([
      'COMPLETED',
      'SKIPPED',
      'SKIPPED',
    ]);
    // Fork targets always start: their skip is ruled out, with why.
    expect(r.excluded).toContainEqual({
      kind: 'transition',
      task: 'a',
      item: 'pending → skipped',
      reason: "a's dependencies (fork) always complete and no decision routes to it, so nothing can make it skip",
    });
    await expectAllPass(text, r);
  });

  it('a case that only an input selects gets a path with that input', async () => {
    const text = wf(
      `    - { id: check, type: SIMPLE }
    - id: gate
      type: DECISION
      depends_on: [check]
      decision_cases:
        strict: { condition: "\${workflow.input.strict} == true", next: [audit] }
        default: { next: [ship] }
    - { id: audit, type: SIMPLE }
    - { id: ship, type: SIMPLE }
`,
      '  input:\n    optional:\n      - strict: false\n',
    );
    const r = generatePaths(def(text));
    expect(r.paths.find((p) => p.name === 'gate=strict → audit ✓')?.input).toEqual({ strict: true });
    expect(r.paths.find((p) => p.name === 'gate=default → ship ✓')?.input).toEqual({ strict: false });
    await expectAllPass(text, r);
  });
});

describe('limits', () => {
  it('a walk past its limit stops with LF_PATHS_LIMIT rather than a truncated list', () => {
    expect(() => generatePaths(def(wide(4)), { limit: 20 })).toThrow(
      expect.objectContaining({ code: 'LF_PATHS_LIMIT' }),
    );
  });
});

describe('WAIT', () => {
  const text = wf(`    - { id: prep, type: SIMPLE }
    - { id: nap, type: WAIT, depends_on: [prep], duration: 5m }
    - { id: gate, type: WAIT, depends_on: [nap], event: release, timeout: 1h }
    - { id: soft, type: WAIT, depends_on: [nap], event: maybe, timeout: 10m, on_timeout: skip }
    - { id: at, type: WAIT, depends_on: [prep], until: "2026-01-01T01:00:00Z" }
    - { id: last, type: SIMPLE, depends_on: [gate, soft, at], trigger_rule: all_done }
`);

  it("covers a WAIT's timer, its signal and its timeout (fail and skip), and every path runs on the runtime as the model says", async () => {
    const report = generatePaths(def(text));
    expect(complete(report)).toBe(true);
    const covered = new Set(report.paths.flatMap((p) => p.covers));
    for (const item of ['waiting → done on timer.wait'].map((i) => `transition|nap|${i}`))
      expect(covered).toContain(item);
    expect(covered).toContain('transition|gate|waiting → done on signal.release');
    expect(covered).toContain('transition|gate|waiting → timed_out on timer.timeout');
    expect(covered).toContain('transition|soft|waiting → skipped on timer.timeout');
    expect(report.excluded.map((e) => `${e.task}|${e.item}`)).toContain('gate|pending → pending on signal.release');
    expect(report.excluded.find((e) => e.task === 'at' && e.item === 'pending → failed')?.reason).toBe(
      "at's until is a fixed valid time, so it cannot be malformed",
    );
    expect(covered).toContain('transition|at|waiting → done on timer.wait');
    expect(report.paths.map((p) => p.name)).toContain('gate gets no signal release in time (timed out) → run FAILED');
    await expectAllPass(text, report);
  }, 60_000);
});

describe('SET and TERMINATE', () => {
  const text = wf(`    - { id: score, type: SIMPLE, output: [value], timeout: 10s }
    - { id: side, type: SIMPLE }
    - id: remember
      type: SET
      depends_on: [score]
      values: { level: "\${score.output.value}", fixed: 1 }
    - id: route
      type: DECISION
      depends_on: [remember]
      decision_param: "\${workflow.variables.level}"
      decision_cases:
        stop: { next: [halt] }
        done: { next: [finish] }
        default: { next: [work] }
    - { id: halt, type: TERMINATE, status: FAILED, reason: "stopped at \${workflow.variables.level}" }
    - { id: finish, type: TERMINATE, status: COMPLETED }
    - { id: work, type: SIMPLE, input: { level: "\${workflow.variables.level}" } }
`);

  it('reach full coverage: a decision on a variable a SET copied from an output is steered, and each TERMINATE ends its path', async () => {
    const report = generatePaths(def(text));
    expect(report.uncovered).toEqual([]);
    expect(complete(report)).toBe(true);
    expect(Object.keys(report.tasks)).toEqual(expect.arrayContaining(['remember', 'halt', 'finish']));
    const byName = new Map(report.paths.map((p) => [p.name, p]));
    const halted = [...byName.values()].find((p) => p.name.startsWith('route=stop'))!;
    const finished = [...byName.values()].find((p) => p.name.startsWith('route=done'))!;
    expect(halted.outcome).toBe('FAILED');
    expect(finished.outcome).toBe('COMPLETED');
    // The path ends where TERMINATE ends the run: work never starts on it.
    for (const p of [halted, finished])
      expect(p.events.some((e) => e.type === 'task.started' && e.data.task === 'work')).toBe(false);
    await expectAllPass(text, report);
  });
});

describe('MAP', () => {
  const text = wf(`    - { id: list, type: SIMPLE, output: [folders] }
    - id: scan
      type: MAP
      depends_on: [list]
      items: "\${list.output.folders}"
      handler: scan_folder
      input: { path: "\${item}" }
      max_concurrency: 1
      retry_policy: { max_attempts: 2, initial_delay: 1s }
      timeout: 30s
    - { id: report, type: SIMPLE, depends_on: [scan] }
`);
  it('is covered fully: empty, with items, with an item retried, timed out and failing, each path as the real engine runs it', async () => {
    const r = generatePaths(def(text));
    expect(complete(r)).toBe(true);
    const events = r.paths.map((p) =>
      p.events
        .map(
          (e) =>
            `${e.type}:${'task' in e.data ? e.data.task : ''}${'item' in e.data && e.data.item !== undefined ? `[${e.data.item}]` : ''}`,
        )
        .join(' '),
    );
    // An empty list (scan completes at once), and a failing item that fails the run.
    expect(events.some((e) => !e.includes('scan[') && e.includes('task.started:report'))).toBe(true);
    expect(
      r.paths.some(
        (p) => p.outcome === 'FAILED' && p.events.some((e) => e.type === 'task.failed' && e.data.task === 'scan'),
      ),
    ).toBe(true);
    await expectAllPass(text, r);
  });
});

describe('TRANSFORM tasks', () => {
  it("are work like a handler's: paths succeed, retry, time out and fail them, scripted (no jq runs), and a decision on their result is steered", async () => {
    const text =
      wf(`    - { id: shape, type: TRANSFORM, input: { n: 1 }, jq: '{ level: (if .n > 1 then "high" else "low" end) }', retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 30s }
    - id: route
      type: DECISION
      depends_on: shape
      decision_param: "\${shape.output.result.level}"
      decision_cases: { high: { next: [loud] }, default: { next: [quiet] } }
    - { id: loud, type: SET, values: { said: loud } }
    - { id: quiet, type: SET, values: { said: quiet } }
`);
    const report = generatePaths(def(text));
    expect(complete(report)).toBe(true);
    const names = report.paths.map((p) => p.name).join('\n');
    expect(names).toMatch(/shape .*fail/);
    expect(report.coverage.decisionCases.covered).toBe(2);
    await expectAllPass(text, report);
  });
});
