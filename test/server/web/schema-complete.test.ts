/** The editor's completion (docs/dashboard.md#editing-a-definition): what the schema offers where the cursor is. */
import { describe, expect, it } from 'vitest';
import { definitionJsonSchema } from '../../../src/definition/index.js';
import { cursorPlace, schemaOptions, type SchemaNode } from '../../../src/server/web/editor/schema-complete.js';

const schema = definitionJsonSchema() as SchemaNode;
const at = (text: string) => {
  const lines = text.split('\n');
  return cursorPlace(lines, lines.at(-1)!.length)!;
};
const labels = (text: string) => schemaOptions(schema, at(text)).map((o) => o.label);

describe('completion from the JSON Schema', () => {
  it('offers the workflow keys under workflow:', () => {
    expect(at('workflow:\n  ver')).toEqual({ at: 'key', path: ['workflow'], prefix: 'ver' });
    expect(labels('workflow:\n  ver')).toEqual(['version']);
    expect(labels('workflow:\n  ')).toEqual(expect.arrayContaining(['id', 'version', 'tasks', 'input', 'triggers']));
  });

  it("offers a task's keys in a list item, on its first line and the lines after", () => {
    expect(at('workflow:\n  tasks:\n    - ')).toEqual({ at: 'key', path: ['workflow', 'tasks', '[]'], prefix: '' });
    expect(labels('workflow:\n  tasks:\n    - id: a\n      depe')).toEqual(['depends_on']);
  });

  it('offers the task types as the value of type:', () => {
    expect(labels('workflow:\n  tasks:\n    - id: a\n      type: ')).toEqual(
      expect.arrayContaining(['SIMPLE', 'HUMAN', 'DECISION', 'WAIT']),
    );
    expect(labels('workflow:\n  tasks:\n    - id: a\n      type: HU')).toEqual(['HUMAN']);
  });
});
