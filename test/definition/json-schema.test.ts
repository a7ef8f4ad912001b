/**
 * The JSON Schema of the definition language as editors and CI use it
 *: strict Ajv compiles it; every bundled definition and the shared
 * example validate against it; a key `validate` flags as unknown (a typo like
 * `max_attemps`) is refused, while the seeds' aliases stay allowed; and the
 * file the package ships (schema/ledgerflow.schema.json) is the one generated
 * from the zod schema, as `ledgerflow schema` prints it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFINITION_SCHEMA_FILE,
  DEFINITION_SCHEMA_ID,
  definitionJsonSchema,
  parseDefinition,
} from '../../src/definition/index.js';
import { stripBanner } from '../../src/definition/positions.js';
import { cli, ROOT } from '../helpers/cli.js';

const yamlIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(dir, f))
    : [];
/** The bundled definitions, the repo's example, and the shared examples where shared/ is beside the checkout. */
const FILES = [
  ...yamlIn(join(ROOT, 'definitions')),
  ...yamlIn(join(ROOT, 'examples')),
  ...yamlIn(resolve(ROOT, '..', 'shared', 'examples')),
  ...yamlIn('/work/shared/examples'),
];

const doc = (text: string) => parse(text, { merge: true }) as unknown;
const minimal = (task: string) => doc(`workflow:\n  id: w\n  tasks:\n    - ${task}\n`);

describe('the JSON Schema of the definition language', () => {
  let validate: ValidateFunction;
  beforeAll(() => {
    validate = new Ajv({ strict: true, allErrors: true }).compile(definitionJsonSchema());
  });

  it('compiles under strict Ajv, with a stable URL as its $id', () => {
    expect(validate).toBeTypeOf('function');
    expect(definitionJsonSchema().$id).toBe(DEFINITION_SCHEMA_ID);
    expect(DEFINITION_SCHEMA_ID).toMatch(/^https:\/\/\S+\/ledgerflow\.schema\.json$/);
  });

  it('accepts every bundled definition and the shared example', () => {
    expect(FILES.length).toBeGreaterThan(10);
    for (const file of FILES) {
      const text = readFileSync(file, 'utf8');
      // Only what the loader accepts is expected to validate here too.
      expect(parseDefinition(text, file).definition, file).not.toBeNull();
      // The tree the loader reads: the shared example opens with box-drawing art above `workflow:`, which is not YAML.
      expect(validate(doc(stripBanner(text)!)) ? null : { file, errors: validate.errors }).toBeNull();
    }
  });

  it('refuses a key validate flags as unknown: max_attemps, a task key, a workflow key, a trigger key, the top level', async () => {
    const typo = minimal('{ id: a, type: SIMPLE, retry_policy: { max_attemps: 3 } }');
    expect(validate(typo)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'max_attemps' } }),
    );
    expect(validate(minimal('{ id: a, type: SIMPLE, dependson: [b] }'))).toBe(false);
    expect(validate(doc('workflow:\n  id: w\n  taks: []\n  tasks: [{ id: a, type: SIMPLE }]\n'))).toBe(false);
    expect(
      validate(
        doc(
          'workflow:\n  id: w\n  tasks: [{ id: a, type: SIMPLE }]\n  triggers: [{ schedule: "0 * * * *", timezon: UTC }]\n',
        ),
      ),
    ).toBe(false);
    expect(validate(doc('workflow:\n  id: w\n  tasks: [{ id: a, type: SIMPLE }]\nworkflows: {}\n'))).toBe(false);
    // What validate says of the same typo: the schema refuses no more than validate flags.
    const dir = (await import('../helpers/cli.js')).tempDir();
    const file = join(dir, 'typo.yaml');
    (await import('node:fs')).writeFileSync(
      file,
      'workflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, retry_policy: { max_attemps: 3 } }\n',
    );
    const r = await cli(['validate', file]);
    expect(r.stdout + r.stderr).toContain('max_attemps');
  });

  it("keeps the seeds' aliases and task types in any case", () => {
    const aliases = minimal(
      '{ id: a, type: simple, retry_policy: { max_attempts: 2, backoff_strategy: exponential } }',
    );
    expect(validate(aliases) ? null : validate.errors).toBeNull();
    const decision = doc(
      'workflow:\n  id: w\n  tasks:\n    - { id: d, type: Decision, decision_param: x, decision_cases: { y: { next_tasks: [a] } } }\n    - { id: a, type: SIMPLE }\n  triggers: [{ cron: "0 * * * *" }]\n',
    );
    expect(validate(decision) ? null : validate.errors).toBeNull();
    expect(validate(minimal('{ id: a, type: SIMPL }'))).toBe(false);
  });

  it('is shipped as schema/ledgerflow.schema.json (package.json "files"), equal to the generated one and to `ledgerflow schema`', async () => {
    const shipped = readFileSync(join(ROOT, DEFINITION_SCHEMA_FILE), 'utf8');
    expect(shipped).toBe(`${JSON.stringify(definitionJsonSchema(), null, 2)}\n`);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain(DEFINITION_SCHEMA_FILE.split('/')[0]);
    const printed = await cli(['schema']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(JSON.parse(shipped));
  });
});
