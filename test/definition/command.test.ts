/** COMMAND tasks in the language: argv as a list (never a shell string), cwd and env, each a template, checked with line:col. */
import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';
import { missingHandlers, type Handlers } from '../../src/runtime/index.js';
import { TASK_TYPES, RUNNABLE_TASK_TYPES } from '../../src/definition/index.js';

describe('COMMAND tasks', () => {
  it('normalise to argv, cwd and env, and are a runnable task type', () => {
    const r = parse(
      wf(
        '    - id: scan\n      type: COMMAND\n      command: [sh, scan.sh, "${workflow.input.folder}", 3]\n      cwd: "work/${workflow.input.folder}"\n      env: { MODE: strict, LEVEL: 2 }\n      timeout: 30s\n',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks[0]).toMatchObject({
      type: 'COMMAND',
      command: ['sh', 'scan.sh', '${workflow.input.folder}', '3'],
      cwd: 'work/${workflow.input.folder}',
      env: { MODE: 'strict', LEVEL: '2' },
      timeoutMs: 30_000,
    });
    expect(TASK_TYPES).toContain('COMMAND');
    expect(RUNNABLE_TASK_TYPES).toContain('COMMAND');
  });

  it('refuses a shell string, saying to split it into a list, at its line:col', () => {
    const text = wf('    - id: scan\n      type: COMMAND\n      command: "sh scan.sh --fast"\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_SCHEMA');
    expect(d.message).toBe(
      'workflow.tasks[0].command: command is a list of the program and its arguments, never a shell string (no shell runs it): split it into a list, e.g. command: ["sh","scan.sh","--fast"]',
    );
    expect(d).toMatchObject(pos(text, '"sh scan.sh'));
  });

  it('needs a command, and at least the program in it', () => {
    const missing = wf('    - id: scan\n      type: COMMAND\n');
    expect(only(parse(missing), 'LF_MISSING_FIELD').message).toMatch(
      /^COMMAND task scan needs command: the program and its arguments as a list/,
    );
    const empty = wf('    - id: scan\n      type: COMMAND\n      command: []\n');
    expect(only(parse(empty), 'LF_SCHEMA').message).toMatch(/command needs at least the program to run/);
  });

  it('refuses env names that are not names, and the LF_ variables ledgerflow sets', () => {
    const bad = wf('    - id: scan\n      type: COMMAND\n      command: [env]\n      env: { "MY VAR": x }\n');
    expect(only(parse(bad), 'LF_COMMAND_ENV_NAME').message).toMatch(
      /"MY VAR" is not a variable name; an environment variable name has only letters, digits and _/,
    );
    const text = wf('    - id: scan\n      type: COMMAND\n      command: [env]\n      env: { LF_RUN_ID: x }\n');
    const d = only(parse(text), 'LF_COMMAND_ENV_RESERVED');
    expect(d.message).toMatch(/sets LF_RUN_ID, which ledgerflow sets for every command/);
    expect(d).toMatchObject(pos(text, 'LF_RUN_ID'));
  });

  it('checks the templates in command, cwd and env like an input', () => {
    const text = wf(
      '    - id: scan\n      type: COMMAND\n      command: [sh, "${nope.output.x}"]\n      env: { A: "${workflow.input.fodler}" }\n',
    );
    const r = parse(text);
    const unknownTask = r.diagnostics.find((d) => d.severity === 'error' && d.message.includes('nope'));
    expect(unknownTask).toMatchObject({ severity: 'error', ...pos(text, '${nope') });
    expect(r.diagnostics.find((d) => d.message.includes('fodler'))).toMatchObject(pos(text, '${workflow.input.fodler'));
  });

  it('warns about command fields on other tasks and about a handler on a COMMAND', () => {
    const r = parse(
      wf(
        '    - id: a\n      type: SIMPLE\n      command: [ls]\n    - id: b\n      type: COMMAND\n      command: [ls]\n      handler: h\n',
      ),
    );
    expect(r.diagnostics.map((d) => d.message)).toEqual(
      expect.arrayContaining([
        'command is ignored on SIMPLE task a (it applies to COMMAND)',
        'handler is ignored on COMMAND task b: it runs its command, not a handler',
      ]),
    );
  });

  it('may be the iterator of a MAP (its command runs per item, ${item} in scope)', () => {
    const r = parse(
      wf(
        '    - id: list\n      type: SIMPLE\n    - id: each\n      type: MAP\n      depends_on: [list]\n      items: "${list.output.items}"\n      iterator: check\n    - id: check\n      type: COMMAND\n      command: [sh, check.sh, "${item}"]\n',
      ),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('asks no handler for a COMMAND task before a run starts', () => {
    const r = parse(
      wf('    - id: scan\n      type: COMMAND\n      command: [ls]\n    - id: load\n      type: SIMPLE\n'),
    );
    const none: Handlers = {};
    expect(missingHandlers(r.definition!.tasks, none)).toEqual([{ task: 'load', handler: 'load' }]);
  });
});
