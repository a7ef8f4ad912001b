import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

const task = '    - { id: a, type: SIMPLE, input: { f: "${workflow.input.folder}" } }\n';
const withTriggers = (...lines: string[]) => wf(task, ['  triggers:', ...lines, ''].join('\n'));

describe('event triggers read the event, and only they do', () => {
  it("accepts ${event.…} and bare event.… in an event trigger's filter and input", () => {
    const r = parse(
      withTriggers(
        '    - event: file_dropped',
        '      filter: "event.data.size > 0 && ${event.source} != \'test\'"',
        '      input: { folder: "${event.data.folder}", strict_mode: "${event.data.strict}" }',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.triggers[0]).toMatchObject({
      kind: 'event',
      event: 'file_dropped',
      input: { folder: '${event.data.folder}' },
    });
  });

  it('refuses ${event.…} in a task, pointing at the reference', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      input:\n        x: "amount ${event.data.amount}"\n');
    const d = only(parse(text), 'LF_EVENT_REF_OUTSIDE_TRIGGER');
    expect(d.message).toContain(
      'template ${event.data.amount} in task a: event.* can only be used in triggers[].filter and triggers[].input',
    );
    expect(d).toMatchObject(pos(text, '${event.data.amount}'));
  });

  it('refuses bare event.… in a decision condition and in the workflow output', () => {
    const text = wf(
      [
        '    - id: d',
        '      type: DECISION',
        '      decision_cases:',
        '        big: { condition: "event.data.amount > 1000", next: [] }',
        '',
      ].join('\n'),
      '  output: { amount: "${event.data.amount}" }\n',
    );
    const r = parse(text);
    const found = r.diagnostics.filter((x) => x.code === 'LF_EVENT_REF_OUTSIDE_TRIGGER');
    expect(found.map((x) => x.message)).toEqual([
      expect.stringContaining('in workflow output: event.* can only be used in triggers[].filter and triggers[].input'),
      expect.stringContaining('in task d: event.* can only be used in triggers[].filter and triggers[].input'),
    ]);
    expect(found[1]).toMatchObject(pos(text, 'event.data.amount > 1000'));
  });

  it('refuses ${event.…} in a schedule trigger, which has no event', () => {
    const d = only(
      parse(withTriggers('    - schedule: "0 9 * * *"', '      input: { folder: "${event.data.folder}" }')),
      'LF_EVENT_REF_OUTSIDE_TRIGGER',
    );
    expect(d.message).toContain('a schedule trigger has no event');
  });

  it('refuses the workflow input in a trigger, which is what builds it', () => {
    const text = withTriggers(
      '    - event: file_dropped',
      '      filter: "${workflow.input.strict_mode} == false"',
      '      input: { folder: "${event.data.folder}" }',
    );
    const d = only(parse(text), 'LF_TEMPLATE_INPUT_IN_TRIGGER');
    expect(d.message).toBe(
      'template ${workflow.input.strict_mode} in triggers[0] reads the workflow input, but a trigger is what builds that input; read the event instead, e.g. ${event.data.<field>}',
    );
  });

  it('still refuses task references in triggers', () => {
    const d = only(
      parse(withTriggers('    - event: e', '      input: { folder: "${a.output.x}" }')),
      'LF_TEMPLATE_TASK_IN_TRIGGER',
    );
    expect(d.message).toContain('no task has run when a trigger fires');
  });

  it('reserves the task id "event"', () => {
    const text = wf('    - id: event\n      type: SIMPLE\n');
    const d = only(parse(text), 'LF_RESERVED_ID');
    expect(d.message).toContain('task id "event" is reserved');
  });
});

describe('a trigger builds the whole input of the runs it starts', () => {
  it('refuses a mapped input the workflow does not declare, with a suggestion', () => {
    const text = withTriggers(
      '    - event: file_dropped',
      '      input: { folder: "${event.data.folder}", strict_mod: true }',
    );
    const d = only(parse(text), 'LF_TRIGGER_UNKNOWN_INPUT');
    expect(d.message).toBe(
      'triggers[0] maps input "strict_mod", which the workflow does not declare; declared inputs: folder, strict_mode; did you mean "strict_mode"?',
    );
    expect(d).toMatchObject(pos(text, 'strict_mod:'));
  });

  it('refuses a trigger that leaves a required input unmapped', () => {
    const d = only(
      parse(withTriggers('    - event: file_dropped', '      filter: "event.data.size > 0"')),
      'LF_TRIGGER_MISSING_INPUT',
    );
    expect(d.message).toBe(
      'triggers[0] does not map required input folder, so every run it starts would be refused; add e.g. input: { folder: "${event.data.folder}" }',
    );
  });

  it('refuses an event type that cannot name a file or a subject', () => {
    const d = only(
      parse(withTriggers('    - event: "../secrets"', '      input: { folder: x }')),
      'LF_TRIGGER_EVENT_NAME',
    );
    expect(d.message).toContain('event type "../secrets" of triggers[0]');
  });

  it('warns when two triggers listen to the same event (the first that matches wins)', () => {
    const r = parse(
      withTriggers('    - { event: e, input: { folder: a } }', '    - { event: e, input: { folder: b } }'),
    );
    expect(r.definition).not.toBeNull();
    expect(only(r, 'LF_TRIGGER_SAME_EVENT').message).toContain('only the first whose filter holds is used');
  });
});

describe('schedule triggers', () => {
  const scheduled = (...lines: string[]) => withTriggers(...lines, '      input: { folder: /data }');

  it('normalises a schedule with its zone and catch_up (default latest, UTC)', () => {
    const r = parse(
      withTriggers(
        '    - { schedule: "0 9 * * *", timezone: Europe/Berlin, catch_up: all, input: { folder: /a } }',
        '    - { cron: "@daily", input: { folder: /b } }',
        '    - { schedule: "*/5 * * * * *", catch_up: none, input: { folder: /c } }',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.triggers).toEqual([
      { kind: 'schedule', cron: '0 9 * * *', timezone: 'Europe/Berlin', catchUp: 'all', input: { folder: '/a' } },
      { kind: 'schedule', cron: '@daily', timezone: 'UTC', catchUp: 'latest', input: { folder: '/b' } },
      { kind: 'schedule', cron: '*/5 * * * * *', timezone: 'UTC', catchUp: 'none', input: { folder: '/c' } },
    ]);
  });

  it('refuses a cron expression croner cannot read, at the expression, with its reason', () => {
    const text = scheduled('    - schedule: "61 9 * * *"');
    const d = only(parse(text), 'LF_SCHEDULE_INVALID');
    expect(d.message).toContain(
      'schedule "61 9 * * *" of triggers[0] is not a cron expression: Invalid value for minute: 61',
    );
    expect(d).toMatchObject(pos(text, '"61 9'));
  });

  it('refuses a wrong number of fields and an unknown nickname (7 fields too: years are not part of the language)', () => {
    for (const expr of ['0 9 * *', '@fortnightly', '0 0 9 * * * 2027']) {
      const d = only(parse(scheduled(`    - cron: "${expr}"`)), 'LF_SCHEDULE_INVALID');
      expect(d.message).toContain(`cron "${expr}" of triggers[0] is not a cron expression`);
    }
  });

  it('refuses an unknown time zone at `timezone`, suggesting the nearest', () => {
    const text = scheduled('    - schedule: "0 9 * * *"', '      timezone: Europe/Berln');
    const d = only(parse(text), 'LF_SCHEDULE_TIMEZONE');
    expect(d.message).toBe(
      'timezone "Europe/Berln" of triggers[0] is not a time zone this runtime knows; use an IANA name such as Europe/Berlin, America/New_York or UTC; did you mean "Europe/Berlin"?',
    );
    expect(d).toMatchObject(pos(text, 'Europe/Berln'));
  });

  it('refuses a catch_up that is not none, latest or all', () => {
    const d = only(parse(scheduled('    - schedule: "0 9 * * *"', '      catch_up: first')), 'LF_SCHEMA');
    expect(d.message).toBe('workflow.triggers[0].catch_up: expected one of none, latest, all, got "first"');
  });
});
