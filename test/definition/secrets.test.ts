/**
 * `${secrets.NAME}` (docs/operations.md#secrets): allowed only in a task's input and a COMMAND's command and
 * env, an error at its file:line:col anywhere else; the core keeps it a reference (where it sits, never a
 * value), and only strings the definition wrote are filled in at the edge: data that reads `${secrets.X}` stays data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { resolveTemplate, type SecretSite } from '../../src/expressions/index.js';
import { applySecrets, envSecrets, masker } from '../../src/secrets/index.js';
import { natsConf } from '../../src/users/nats-conf.js';
import type { UserRecord } from '../../src/users/file.js';
import { only, parse, pos, wf } from './helpers.js';

describe('${secrets.NAME} in a definition', () => {
  it('is accepted in a task input and a COMMAND command and env', () => {
    const r = parse(
      wf(`    - id: a
      type: SIMPLE
      input: { token: "\${secrets.API_TOKEN}", header: "Bearer \${secrets.API_TOKEN}" }
    - id: b
      type: COMMAND
      depends_on: [a]
      command: [curl, -H, "Authorization: Bearer \${secrets.API_TOKEN}", --, "https://x.example"]
      env: { PGPASSWORD: "\${secrets.DB_PASSWORD}" }
`),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  for (const [where, tasks] of [
    [
      'a SET value',
      `    - id: a
      type: SET
      values: { t: "\${secrets.API_TOKEN}" }
`,
    ],
    [
      'a DECISION param',
      `    - id: a
      type: DECISION
      decision_param: "\${secrets.API_TOKEN}"
      decision_cases: { x: { next_tasks: [b] } }
    - id: b
      type: SIMPLE
`,
    ],
    [
      'a task output',
      `    - id: a
      type: SIMPLE
      output: { t: "\${secrets.API_TOKEN}" }
`,
    ],
    [
      "a SUB_WORKFLOW input (the child run's input is recorded)",
      `    - id: a
      type: SUB_WORKFLOW
      workflow: other
      input: { t: "\${secrets.API_TOKEN}" }
`,
    ],
    [
      'a COMMAND cwd',
      `    - id: a
      type: COMMAND
      command: [ls]
      cwd: "\${secrets.API_TOKEN}"
`,
    ],
  ] as const) {
    it(`is LF_SECRET_NOT_ALLOWED in ${where}, at its line and column`, () => {
      const text = wf(tasks);
      const d = only(parse(text), 'LF_SECRET_NOT_ALLOWED');
      expect({ line: d.line, col: d.col }).toEqual(pos(text, '${secrets.API_TOKEN}'));
      expect(d.message).toContain('may only be used in the input of a task a handler or a program runs');
    });
  }

  it('refuses a malformed secret reference', () => {
    const d = only(
      parse(
        wf(`    - id: a
      type: SIMPLE
      input: { t: "\${secrets.API.TOKEN}" }
`),
      ),
      'LF_TEMPLATE_SYNTAX',
    );
    expect(d.message).toContain('is not a secret');
  });
});

describe('resolving: the core keeps references, the edge fills in what the definition wrote', () => {
  const scope = { input: { x: '${secrets.OTHER}' }, workflow: { id: 'w', runId: 'r', version: 1 }, tasks: {} };

  it('keeps ${secrets.NAME} as text and says where it sits; data reading ${secrets.X} is a literal piece', async () => {
    const sites: SecretSite[] = [];
    const input = resolveTemplate(
      {
        a: 'Bearer ${secrets.API_TOKEN}',
        b: '${workflow.input.x} ${secrets.API_TOKEN}',
        c: ['${secrets.API_TOKEN}'],
        d: '${workflow.input.x}',
      },
      scope,
      sites,
      ['input'],
    ) as Record<string, unknown>;
    expect(input).toEqual({
      a: 'Bearer ${secrets.API_TOKEN}',
      b: '${secrets.OTHER} ${secrets.API_TOKEN}',
      c: ['${secrets.API_TOKEN}'],
      d: '${secrets.OTHER}',
    });
    expect(sites).toEqual([
      { path: ['input', 'a'], parts: ['Bearer ', { secret: 'API_TOKEN' }] },
      { path: ['input', 'b'], parts: ['${secrets.OTHER}', ' ', { secret: 'API_TOKEN' }] },
      { path: ['input', 'c', 0], parts: [{ secret: 'API_TOKEN' }] },
    ]);
    const provider = envSecrets({ LEDGERFLOW_SECRET_API_TOKEN: 'tok', LEDGERFLOW_SECRET_OTHER: 'leaked' });
    const done = await applySecrets(sites, input, undefined, provider);
    expect(done.input).toEqual({ a: 'Bearer tok', b: '${secrets.OTHER} tok', c: ['tok'], d: '${secrets.OTHER}' });
    // The effect's own input is untouched: it is what logs and the run page show.
    expect(input.a).toBe('Bearer ${secrets.API_TOKEN}');
    expect(done.mask.value({ out: 'got tok', tok: 1 })).toEqual({
      out: 'got [secret API_TOKEN]',
      '[secret API_TOKEN]': 1,
    });
  });

  it('fails with LF_SECRET_MISSING naming the secret, not retried', async () => {
    const sites: SecretSite[] = [{ path: ['input', 't'], parts: [{ secret: 'NOPE' }] }];
    await expect(applySecrets(sites, { t: '${secrets.NOPE}' }, undefined, envSecrets({}))).rejects.toMatchObject({
      code: 'LF_SECRET_MISSING',
      retryable: false,
      message: expect.stringMatching(/^secret NOPE not found/),
    });
  });

  it('masks the longest value first, and never an empty one', () => {
    const m = masker(
      new Map([
        ['A', 'abc'],
        ['B', 'abcdef'],
        ['E', ''],
      ]),
    );
    expect(m.text('x abcdef y abc')).toBe('x [secret B] y [secret A]');
    expect(m.size).toBe(2);
  });
});

describe('who may read KV LF_SECRETS (users nats-conf, nats.conf)', () => {
  it('gives worker users the bucket by key and people none of it; the shipped nats.conf the same', () => {
    const users = new Map<string, UserRecord>(
      (
        [
          ['engine', 'L1'],
          ['alice', 'L0'],
          ['scanner', 'L3'],
        ] as const
      ).map(([name, level]) => [name, { name, level, natsPassword: `$2a$11$${name}` }]),
    );
    const text = natsConf(users, { engine: 'engine', source: 'users.yaml' }).text;
    const block = (name: string) => {
      const start = text.indexOf(`user: "${name}"`);
      const next = text.indexOf('user: "', start + 1);
      return text.slice(start, next === -1 ? undefined : next);
    };
    expect(block('scanner')).toContain('"$JS.API.DIRECT.GET.KV_LF_SECRETS.$KV.LF_SECRETS.>"');
    expect(block('scanner')).toContain('"$JS.API.STREAM.INFO.KV_LF_SECRETS"');
    expect(block('alice')).not.toContain('LF_SECRETS');
    const shipped = readFileSync(join(ROOT, 'nats.conf'), 'utf8');
    const people = shipped.split('\n').filter((l) => /\{ user: (alice|bob|cfo|commander),/.test(l));
    expect(people).toHaveLength(4);
    for (const l of people) expect(l).not.toContain('LF_SECRETS');
    // The worker and vault users, outside the comments.
    expect(
      shipped
        .split('\n')
        .filter((l) => !l.trim().startsWith('#') && l.includes('"$JS.API.DIRECT.GET.KV_LF_SECRETS.$KV.LF_SECRETS.>"')),
    ).toHaveLength(2);
    expect(
      shipped.split('\n').filter((l) => !l.trim().startsWith('#') && l.includes('"$JS.API.STREAM.INFO.KV_LF_SECRETS"')),
    ).toHaveLength(2);
  });
});
