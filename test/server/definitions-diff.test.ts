/**
 * The definitions page's diff between two versions: a version kept only in
 * runs (its run.started's definition) against the file on disk must show
 * what changed, not two unrelated texts (the file's YAML against a dump of
 * the parsed definition).
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseDefinition } from '../../src/definition/index.js';
import type { DefinitionVersion } from '../../src/server/backend.js';
import { diffVersions } from '../../src/server/definitions.js';

const yamlOf = (version: number, extra = '') => `workflow:
  id: shape
  version: ${version}
  tasks:
    - id: a
      type: SIMPLE
      handler: a${extra}
`;

function version(yaml: string, source: DefinitionVersion['source']): DefinitionVersion {
  const { definition } = parseDefinition(yaml, 'shape.yaml');
  if (!definition) throw new Error('fixture does not parse');
  return {
    id: 'shape',
    version: definition.version,
    source,
    yaml: source === 'file' ? yaml : stringify(definition),
    definition,
    problems: [],
  };
}

describe('diff between two versions of a workflow', () => {
  it('compares a version seen only in runs with the file as like with like: only what changed', () => {
    const versions = [version(yamlOf(2, '\n      timeout: 10s'), 'file'), version(yamlOf(1), 'runs')];
    const { patch } = diffVersions(versions, '1', '2');
    const changed = patch.split('\n').filter((l) => /^[-+](?![-+])/.test(l));
    expect(changed).toContain('-version: 1');
    expect(changed).toContain('+version: 2');
    expect(changed.some((l) => l.startsWith('+workflow:'))).toBe(false);
    expect(changed.length).toBeLessThanOrEqual(6);
  });

  it("keeps the files' own YAML (comments and all) when both versions are files", () => {
    const versions = [version(yamlOf(2).replace('tasks:', 'tasks:   # the work'), 'file'), version(yamlOf(1), 'file')];
    const { patch } = diffVersions(versions, '1', '2');
    expect(patch).toContain('+  version: 2');
    expect(patch).toContain('# the work');
  });
});
