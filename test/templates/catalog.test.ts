/** The catalogue's schema (zod, at load): one canonical entry whichever way its files are written; mistakes named with their place. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG_PATH, loadCatalog } from '../../src/templates/index.js';
import { tempDir } from '../helpers/cli.js';

function rootWith(yaml: string): string {
  const root = tempDir();
  mkdirSync(join(root, 'definitions', 'catalog'), { recursive: true });
  writeFileSync(join(root, CATALOG_PATH), yaml);
  return root;
}

const flat = `templates:
  - id: a
    title: A
    description: does a
    definition: definitions/a.yaml
    sub_workflows: [definitions/b.yaml]
    handlers: [definitions/handlers/a.ts]
    events: [events/a.yaml]
    command: ledgerflow run definitions/a.yaml
`;

describe('the template catalogue schema', () => {
  it('reads files grouped under files:, sub-workflows spelled with a dash and single paths as the flat form', () => {
    const grouped = `templates:
  - id: a
    title: A
    description: does a
    files:
      definition: definitions/a.yaml
      sub-workflows: definitions/b.yaml
      handlers: definitions/handlers/a.ts
      events: [events/a.yaml]
    command: ledgerflow run definitions/a.yaml
`;
    const expected = loadCatalog(rootWith(flat));
    expect(expected.templates[0]).toMatchObject({
      sub_workflows: ['definitions/b.yaml'],
      samples: [],
      expectations: [],
      scripts: [],
    });
    expect(loadCatalog(rootWith(grouped))).toEqual(expected);
  });

  it('refuses an unknown key, a path leaving the package and a missing command, naming each; then a duplicate id', () => {
    const problems = (yaml: string): string => {
      try {
        loadCatalog(rootWith(yaml));
      } catch (err) {
        expect((err as Error).message).toMatch(/the template catalogue .* is invalid/);
        return (err as { meta: { problems: string[] } }).meta.problems.join('\n');
      }
      throw new Error('accepted');
    };
    const bad = problems(`templates:
  - { id: a, title: A, description: d, definition: definitions/a.yaml, command: x, colour: red }
  - { id: b, title: B, description: d, definition: ../outside.yaml, command: x }
  - { id: c, title: C, description: d, definition: definitions/c.yaml }
`);
    expect(bad).toMatch(/templates\.0: .*colour/);
    expect(bad).toMatch(/templates\.1\.definition: a path relative to the package root/);
    expect(bad).toMatch(/templates\.2\.command/);
    expect(
      problems(`${flat}  - { id: a, title: A2, description: d, definition: definitions/a2.yaml, command: x }\n`),
    ).toMatch(/templates\.1\.id: template a is listed twice/);
  });
});
