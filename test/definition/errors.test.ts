import { describe, it, expect } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

describe('documents that are not workflows', () => {
  it('needs a top-level workflow: key', () => {
    const r = parse('tasks:\n  - id: a\n');
    expect(r.definition).toBeNull();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: 'LF_NO_WORKFLOW', line: 1, col: 1, file: 'test.yaml' }),
    ]);
    expect(r.diagnostics[0]!.message).toMatch(/^expected a top-level `workflow:` key/);
  });

  it('reports YAML syntax errors with their place', () => {
    const text = 'workflow:\n  id: x\n  tasks: [a, b\n  name: y\n';
    const r = parse(text);
    expect(r.definition).toBeNull();
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', code: 'LF_YAML_SYNTAX' });
    expect(r.diagnostics[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('reports duplicate keys at the second one', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      type: HUMAN\n');
    const d = only(parse(text), 'LF_YAML_DUPLICATE_KEY');
    expect(d.message).toBe('duplicate key "type"; a key may appear only once in a map');
    expect(d).toMatchObject(pos(text, 'type: HUMAN'));
  });
});

describe('schema errors name the place and the fix', () => {
  it('rejects a misspelt enum value', () => {
    const text = wf(
      '    - id: a\n      type: SIMPLE\n      retry_policy:\n        max_attempts: 2\n        backoff: "exponentail"\n',
    );
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_SCHEMA');
    expect(d.message).toBe(
      'workflow.tasks[0].retry_policy.backoff: expected one of fixed, linear, exponential, got "exponentail"; did you mean "exponential"?',
    );
    expect(d).toMatchObject(pos(text, '"exponentail"'));
  });

  it('reports a missing required key at the map that lacks it', () => {
    const text = wf('    - id: a\n      name: no type\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toBe('workflow.tasks[0]: missing required key "type"');
    expect(d).toMatchObject(pos(text, 'id: a'));
  });

  it('rejects wrong types', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      timeout: "3 fortnights"\n      optional: "yes"\n');
    const r = parse(text);
    const [timeout, optional] = r.diagnostics;
    expect(timeout).toMatchObject({
      severity: 'error',
      message:
        'workflow.tasks[0].timeout: expected a duration like "30s", "1h30m", "PT1M" or a number of milliseconds, got "3 fortnights"',
      ...pos(text, '"3 fortnights"'),
    });
    expect(optional).toMatchObject({
      severity: 'error',
      message: 'workflow.tasks[0].optional: expected true or false, got "yes"',
      ...pos(text, '"yes"'),
    });
  });

  it('rejects an unknown task type with a suggestion', () => {
    const text = wf('    - id: a\n      type: simpel\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toMatch(
      /^workflow\.tasks\[0\]\.type: expected one of SIMPLE, DECISION, .*, got "simpel"; did you mean "SIMPLE"\?$/,
    );
    expect(d).toMatchObject(pos(text, 'simpel'));
  });

  it('an unknown type is one error with the closest type, and no warning that judges the task as another type', () => {
    const text = wf(
      '    - { id: sign, type: HUMANN, approvers: [alice], wait_for_approval: true, on_timeout: skip }\n',
    );
    const r = parse(text);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'LF_SCHEMA',
        ...pos(text, 'HUMANN'),
        message: expect.stringContaining('got "HUMANN"; did you mean "HUMAN"?'),
      }),
    ]);
  });

  it('warns about unknown keys with a suggestion, and still loads', () => {
    const text = wf('    - id: scan_files\n      type: SIMPLE\n      dependson: []\n');
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const d = only(r, 'LF_UNKNOWN_KEY');
    expect(d).toMatchObject({
      severity: 'warning',
      message: 'unknown key "dependson" in task scan_files; did you mean "depends_on"?',
      ...pos(text, 'dependson'),
    });
  });
});

describe('graph errors', () => {
  it('reports a duplicate task id at the second task', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n    - id: a\n      type: SIMPLE\n');
    const d = only(parse(text), 'LF_DUPLICATE_TASK');
    expect(d.message).toBe('duplicate task id "a" (already used by tasks[0]); task ids must be unique');
    expect(d).toMatchObject(pos(text, '- id: a', { nth: 1, shift: 6 }));
  });

  it.each([
    ['depends_on', '      depends_on: [scan, lod]\n', 'lod'],
    ['parallel_with', '      parallel_with: lod\n', 'lod'],
  ])('reports an unknown task in %s', (field, line, bad) => {
    const text = wf(`    - id: scan\n      type: SIMPLE\n    - id: load\n      type: SIMPLE\n${line}`);
    const d = only(parse(text), 'LF_UNKNOWN_TASK');
    expect(d.message).toBe(`unknown task "${bad}" in ${field} of task load; did you mean "load"?`);
    expect(d).toMatchObject(pos(text, ` ${bad}`, { shift: 1 }));
  });

  it.each([
    ['JOIN', 'join_on', '      join_on: [scan, nope]\n'],
    ['FORK', 'fork_tasks', '      fork_tasks:\n        - [scan]\n        - [nope]\n'],
    ['DO_WHILE', 'loop_over', '      loop_condition: "scan.attempts < 3"\n      loop_over: [nope]\n'],
    ['MAP', 'iterator', '      items: "${workflow.input.folder}"\n      iterator: nope\n'],
  ])("reports an unknown task in a %s task's %s", (type, field, lines) => {
    const text = wf(`    - id: scan\n      type: SIMPLE\n    - id: multi\n      type: ${type}\n${lines}`);
    const d = only(parse(text), 'LF_UNKNOWN_TASK');
    expect(d.message).toBe(`unknown task "nope" in ${field} of task multi`);
    expect(d).toMatchObject(pos(text, 'nope'));
  });

  it('warns (does not fail) when a decision case routes to an unknown task', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      decision_param: "${workflow.input.folder}"\n      decision_cases:\n        A:\n          next_tasks: [d2, ghost]\n    - id: d2\n      type: SIMPLE\n',
    );
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const d = only(r, 'LF_UNKNOWN_CASE_TARGET');
    expect(d).toMatchObject({
      severity: 'warning',
      path: ['workflow', 'tasks', 0, 'decision_cases', 'A', 'next_tasks', 1],
      ...pos(text, 'ghost'),
    });
  });

  it('names the tasks of a dependency cycle', () => {
    const text = wf(
      '    - id: a\n      type: SIMPLE\n      depends_on: c\n    - id: b\n      type: SIMPLE\n      depends_on: a\n    - id: c\n      type: SIMPLE\n      depends_on: [b]\n',
    );
    const d = only(parse(text), 'LF_CYCLE');
    expect(d.message).toBe(
      'dependency cycle a → c → b → a (each task waits for the next, so none can start); remove one of these dependencies',
    );
    expect(d).toMatchObject(pos(text, 'depends_on: c', { shift: 12 }));
  });

  it('finds cycles through implicit decision edges', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      depends_on: [t]\n      decision_param: "${t.output.x}"\n      decision_cases:\n        X: { next: t }\n    - id: t\n      type: SIMPLE\n',
    );
    expect(only(parse(text), 'LF_CYCLE').message).toContain('d → t → d');
  });
});

describe('template errors', () => {
  it('points inside the string at an unparseable template', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      input:\n        x: "prefix ${workflow.input.folder"\n');
    const d = only(parse(text), 'LF_TEMPLATE_SYNTAX');
    expect(d.message).toBe(
      'invalid template in task a: unterminated "${" (missing "}") at column 8 in template "prefix ${workflow.input.folder"',
    );
    expect(d).toMatchObject(pos(text, '${workflow.input.folder"'));
  });

  it('points inside the string at a condition syntax error', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      decision_cases:\n        A:\n          condition: "${workflow.input.strict_mode} = false"\n          next: []\n',
    );
    const d = only(parse(text), 'LF_TEMPLATE_SYNTAX');
    expect(d.message).toContain('unexpected "=" at column 31');
    expect(d.message).toContain('use == to compare');
    expect(d).toMatchObject(pos(text, '= false'));
  });

  it('rejects a reference to an unknown task', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      input:\n        x: "${nobody.output}"\n');
    const d = only(parse(text), 'LF_TEMPLATE_UNKNOWN_TASK');
    expect(d.message).toBe('template ${nobody.output} in task a names unknown task "nobody"');
    expect(d).toMatchObject(pos(text, '${nobody'));
  });

  it('rejects a reference to a task that is not upstream', () => {
    const text = wf(
      '    - id: x\n      type: SIMPLE\n    - id: y\n      type: SIMPLE\n      input:\n        data: "from ${x.output}"\n',
    );
    const d = only(parse(text), 'LF_TEMPLATE_NOT_UPSTREAM');
    expect(d.message).toBe(
      'template ${x.output} in task y names task x, which is not upstream of y; add it to depends_on',
    );
    expect(d).toMatchObject(pos(text, '${x.output}'));
  });

  it('rejects an undeclared input', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      output_to: "${workflow.input.foo}/out.yaml"\n');
    const d = only(parse(text), 'LF_UNKNOWN_INPUT');
    expect(d.message).toBe('unknown input "foo" in task a; declared inputs: folder, strict_mode');
    expect(d).toMatchObject(pos(text, '${workflow.input.foo}'));
  });

  it('checks bare references in conditions too', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      decision_cases:\n        A:\n          condition: "later.output.ok == true"\n          next: [later]\n    - id: later\n      type: SIMPLE\n',
    );
    const d = only(parse(text), 'LF_TEMPLATE_NOT_UPSTREAM');
    expect(d).toMatchObject(pos(text, 'later.output.ok'));
  });

  it('warns about an output name the task does not declare', () => {
    const text = wf(
      '    - id: x\n      type: SIMPLE\n      output: [file_list]\n    - id: y\n      type: SIMPLE\n      depends_on: x\n      input:\n        f: "${x.output.filelist}"\n',
    );
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const d = only(r, 'LF_UNKNOWN_OUTPUT');
    expect(d).toMatchObject({
      severity: 'warning',
      message:
        'template ${x.output.filelist} in task y reads output "filelist" of task x, which declares only: file_list; did you mean "file_list"?',
      ...pos(text, '${x.output.filelist}'),
    });
  });
});

describe('decision and task-type checks', () => {
  it('rejects a decision with no cases', () => {
    const text = wf('    - id: d\n      type: DECISION\n      decision_param: "${workflow.input.folder}"\n');
    const d = only(parse(text), 'LF_DECISION_NO_CASES');
    expect(d.message).toBe('decision task d has no cases; add decision_cases with at least one case (or a default)');
    expect(d).toMatchObject(pos(text, 'id: d'));
  });

  it('rejects a decision that nothing can select', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      decision_cases:\n        A: { next: [t] }\n    - id: t\n      type: SIMPLE\n',
    );
    const d = only(parse(text), 'LF_DECISION_NO_SELECTOR');
    expect(d.message).toMatch(/^decision task d has neither decision_param nor a condition on any case/);
    expect(d).toMatchObject(pos(text, 'A: {'));
  });

  it('warns about a case that routes nowhere', () => {
    const text = wf(
      '    - id: d\n      type: DECISION\n      decision_param: "${workflow.input.folder}"\n      decision_cases:\n        SKIP:\n          next: []\n',
    );
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const d = only(r, 'LF_DECISION_EMPTY_CASE');
    expect(d).toMatchObject({
      severity: 'warning',
      message: 'decision case SKIP of d routes to no task; choosing it runs nothing after d',
      ...pos(text, 'next: []'),
    });
  });

  it('warns when a non-HUMAN task asks for approval', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      wait_for_approval: true\n');
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const d = only(r, 'LF_APPROVAL_NOT_HUMAN');
    expect(d).toMatchObject({
      severity: 'warning',
      message:
        'task a has wait_for_approval but is SIMPLE; only HUMAN tasks wait for approval (set type: HUMAN or remove it)',
      ...pos(text, 'wait_for_approval'),
    });
  });

  it('warns when parallel_with names a task upstream or downstream', () => {
    const text = wf(
      '    - id: a\n      type: SIMPLE\n    - id: b\n      type: SIMPLE\n      depends_on: a\n      parallel_with: [a]\n    - id: c\n      type: SIMPLE\n      parallel_with: b\n      depends_on: b\n',
    );
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    const ds = r.diagnostics.filter((d) => d.code === 'LF_PARALLEL_DEPENDENT');
    expect(ds.map((d) => d.message)).toEqual([
      'task b is parallel_with a, which is upstream of b, so they cannot run in parallel',
      'task c is parallel_with b, which is upstream of c, so they cannot run in parallel',
    ]);
    expect(ds[0]).toMatchObject(pos(text, 'parallel_with: [a]', { shift: 16 }));
  });

  it('requires the fields a task type needs', () => {
    const text = wf('    - id: w\n      type: wait\n');
    const d = only(parse(text), 'LF_MISSING_FIELD');
    expect(d.message).toBe('WAIT task w needs one of duration, until or event');
  });

  it('refuses a WAIT that waits two ways, at the second', () => {
    const text = wf('    - id: w\n      type: WAIT\n      duration: 1h\n      until: "2026-12-01T09:00:00Z"\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_CONFLICT');
    expect(d.message).toBe(
      'WAIT task w sets duration and until; a WAIT waits one way: keep one of duration, until or event',
    );
    expect(d).toMatchObject(pos(text, 'until:'));
  });

  it('refuses a timeout on a WAIT that waits for a duration or a time, and an on_timeout a WAIT cannot take', () => {
    const timed = wf('    - id: w\n      type: WAIT\n      duration: 1h\n      timeout: 2h\n');
    const r = parse(timed);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_CONFLICT');
    expect(d.message).toBe(
      'WAIT task w has a timeout but waits for a duration; only a WAIT on an event can time out: remove timeout (or wait on an event)',
    );
    expect(d).toMatchObject(pos(timed, 'timeout:'));
    const approve = wf(
      '    - id: w\n      type: WAIT\n      event: go\n      timeout: 2h\n      on_timeout: approve\n',
    );
    expect(only(parse(approve), 'LF_INVALID_VALUE').message).toBe(
      'on_timeout of WAIT task w is "approve"; a WAIT\'s timeout can fail (the default) or skip it',
    );
    const fine = parse(
      wf('    - id: w\n      type: WAIT\n      event: go\n      timeout: 2h\n      on_timeout: skip\n'),
    );
    expect(fine.definition).not.toBeNull();
    expect(fine.diagnostics).toEqual([]);
  });

  it('refuses a DO_WHILE without a body, or with an empty one', () => {
    const none = wf('    - id: poll\n      type: DO_WHILE\n      loop_condition: "${poll.output.iteration} < 3"\n');
    expect(only(parse(none), 'LF_MISSING_FIELD').message).toBe(
      'DO_WHILE task poll needs loop_over (the body: the tasks run in each iteration)',
    );
    const empty = wf(
      '    - id: poll\n      type: DO_WHILE\n      loop_condition: "${poll.output.iteration} < 3"\n      loop_over: []\n',
    );
    expect(only(parse(empty), 'LF_MISSING_FIELD').message).toBe(
      'DO_WHILE task poll needs a body: at least one task id in loop_over',
    );
  });

  it('refuses a body task in two loops, and a loop in its own body, at the entry that repeats it', () => {
    const text = wf(
      [
        '    - { id: check, type: SIMPLE }',
        '    - { id: a, type: DO_WHILE, loop_condition: "true", loop_over: [check] }',
        '    - { id: b, type: DO_WHILE, loop_condition: "true", loop_over: [b, check] }',
      ].join('\n') + '\n',
    );
    const r = parse(text);
    expect(r.definition).toBeNull();
    const ds = r.diagnostics.filter((d) => d.code === 'LF_LOOP_BODY');
    expect(ds.map((d) => d.message)).toEqual([
      'DO_WHILE task b lists itself in loop_over; its body are the tasks it repeats, not the loop',
      'task check is in the body of both a and b; a body task runs only inside its one loop (give each loop its own task)',
    ]);
    expect(ds[1]).toMatchObject(pos(text, 'check] }\n', { nth: 1 }));
  });

  it('refuses a loop inside a loop body (nested loops are not supported yet), at its entry in loop_over', () => {
    const text = wf(
      [
        '    - { id: outer, type: DO_WHILE, loop_condition: "true", loop_over: [inner] }',
        '    - { id: inner, type: DO_WHILE, loop_condition: "true", loop_over: [check] }',
        '    - { id: check, type: SIMPLE }',
      ].join('\n') + '\n',
    );
    const d = only(parse(text), 'LF_LOOP_BODY');
    expect(d.message).toBe(
      'DO_WHILE task inner is in the body of loop outer; nested loops are not supported yet (run the inner loop in a sub-workflow, or flatten it)',
    );
    expect(d).toMatchObject(pos(text, 'inner] }'));
  });

  it('refuses a body task that waits for a task outside its body, at that dependency', () => {
    const text = wf(
      [
        '    - { id: prep, type: SIMPLE }',
        '    - { id: poll, type: DO_WHILE, loop_condition: "check.output.ready == false", loop_over: [check] }',
        '    - { id: check, type: SIMPLE, depends_on: [poll, prep] }',
      ].join('\n') + '\n',
    );
    const d = only(parse(text), 'LF_LOOP_BODY');
    expect(d.message).toBe(
      'task check is in the body of loop poll but depends on prep, which is not; a body task waits only for tasks of its body (put prep in the depends_on of poll)',
    );
    expect(d).toMatchObject(pos(text, 'prep] }'));
  });

  it('gives loop_condition errors at their place, and lets body tasks read their loop and body', () => {
    const bad = wf(
      '    - { id: poll, type: DO_WHILE, loop_condition: "check.output.ready ==", loop_over: [check] }\n    - { id: check, type: SIMPLE }\n',
    );
    const r = parse(bad);
    expect(r.definition).toBeNull();
    expect(r.diagnostics[0]!.line).toBe(pos(bad, 'check.output.ready ==').line);
    const ok = wf(
      [
        '    - { id: poll, type: DO_WHILE, loop_condition: "${poll.output.iteration} < 3", loop_over: [check, note] }',
        '    - { id: check, type: SIMPLE, input: { round: "${poll.output.iteration}", last: "${note.output}" } }',
        '    - { id: note, type: SIMPLE, depends_on: [check] }',
        '    - { id: after, type: SIMPLE, depends_on: [note], input: { n: "${note.output}", rounds: "${poll.output.iteration}" } }',
      ].join('\n') + '\n',
    );
    expect(parse(ok).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('every problem at once', () => {
  it('reports three different errors from one file, in source order', () => {
    const text = wf(
      [
        '    - id: a',
        '      type: SIMPLE',
        '      retry_policy: { max_attempts: 0 }',
        '    - id: b',
        '      type: SIMPLE',
        '      depends_on: [ghost]',
        '    - id: c',
        '      type: SIMPLE',
        '      input: { v: "${b.output}" }',
        '',
      ].join('\n'),
    );
    const r = parse(text);
    expect(r.definition).toBeNull();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, d.line, d.col])).toEqual([
      ['LF_SCHEMA', pos(text, '0 }').line, pos(text, '0 }').col],
      ['LF_UNKNOWN_TASK', pos(text, 'ghost').line, pos(text, 'ghost').col],
      ['LF_TEMPLATE_NOT_UPSTREAM', pos(text, '${b.output}').line, pos(text, '${b.output}').col],
    ]);
    expect(errors[0]!.message).toBe(
      'workflow.tasks[0].retry_policy.max_attempts: expected an integer of at least 1 (1 = no retry), got 0',
    );
  });
});

describe('workflow variables in templates', () => {
  it('accepts ${workflow.variables.x} downstream of the SET that sets it, and warns (at the template) about an unknown name or a reader the SET is not upstream of', () => {
    const text = wf(`    - { id: early, type: SIMPLE, input: { r: "\${workflow.variables.region}" } }
    - { id: remember, type: SET, values: { region: eu } }
    - { id: late, type: SIMPLE, depends_on: [remember], input: { r: "\${workflow.variables.regoin}", ok: "\${workflow.variables.region}", all: "\${workflow.variables}" } }
`);
    const r = parse(text);
    expect(r.definition).not.toBeNull();
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const unknown = only(r, 'LF_UNKNOWN_VARIABLE');
    expect(unknown.message).toMatch(/reads variable "regoin", which no SET task sets .*did you mean "region"/);
    expect(unknown).toMatchObject(pos(text, '${workflow.variables.regoin}'));
    const early = only(r, 'LF_VARIABLE_NOT_UPSTREAM');
    expect(early.message).toMatch(
      /task early reads variable "region", but no SET task that sets it \(remember\) is upstream of early/,
    );
  });

  it('refuses a variable in a trigger: no SET has run when it fires', () => {
    const r = parse(
      wf(
        '    - { id: a, type: SIMPLE }\n',
        '  triggers:\n    - { event: order.created, input: { x: "${workflow.variables.x}" } }\n',
      ),
    );
    expect(only(r, 'LF_TEMPLATE_VARIABLE_IN_TRIGGER').message).toMatch(
      /reads a workflow variable, but no SET task has run when a trigger fires/,
    );
  });
});
