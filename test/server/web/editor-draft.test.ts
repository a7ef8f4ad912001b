/** The editor's draft text (docs/dashboard.md#editing-a-definition): an existing workflow opens as a draft of version N+1. */
import { describe, expect, it } from 'vitest';
import { blankDraft, versionOf, withVersion } from '../../../src/server/web/editor/draft.js';
import { REFUND_V1 } from '../editor-docs.js';

describe("a draft's version", () => {
  it("steps the docs' refund.yaml up to version 2, touching nothing else", () => {
    expect(versionOf(REFUND_V1)).toBe(1);
    expect(withVersion(REFUND_V1, 2)).toBe(REFUND_V1.replace('version: 1', 'version: 2'));
  });

  it('adds version: under workflow: when the file has none, and keeps a comment after it', () => {
    expect(withVersion('workflow:\n  id: a\n  tasks: []\n', 3)).toBe('workflow:\n  version: 3\n  id: a\n  tasks: []\n');
    expect(withVersion('workflow:\n  id: a\n  version: 7 # bumped\n', 8)).toBe(
      'workflow:\n  id: a\n  version: 8 # bumped\n',
    );
    expect(versionOf(blankDraft('x', 4))).toBe(4);
  });
});
