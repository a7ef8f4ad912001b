/**
 * docs/cli.md is generated from each command's own --help
 * (scripts/cli-reference.ts): it must be what the script writes now, so a new
 * command or option cannot be missing from it. Runs the built CLI (dist/).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_MD, REGENERATE, renderCliReference } from '../../scripts/cli-reference.js';

describe('docs/cli.md', () => {
  it("is what scripts/cli-reference.ts writes from the commands' --help now", async () => {
    const expected = await renderCliReference();
    const actual = readFileSync(CLI_MD, 'utf8');
    expect(actual === expected, `docs/cli.md is stale: regenerate it with \`${REGENERATE}\` and commit it`).toBe(true);
  }, 180_000);
});
