/** docs/dashboard.md's "Editing a definition", as its tests read it: the YAML it shows and the problem it says the editor lists. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const text = readFileSync(join(ROOT, 'docs', 'dashboard.md'), 'utf8');
const section = text.slice(
  text.indexOf('## Editing a definition'),
  text.indexOf('\n## ', text.indexOf('## Editing a definition') + 5),
);
const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** `definitions/refund.yaml`, version 1. */
export const REFUND_V1 = blocks[0]!;
/** The draft of version 2 as typed, with its typo (`reviw`). */
export const DRAFT_WITH_TYPO = blocks[1]!;
/** The same draft, the typo fixed as the docs say. */
export const DRAFT_V2 = DRAFT_WITH_TYPO.replace('[reviw]', '[review]');
/** What the editor lists for the typo: `line:col CODE message`. */
export const TYPO_PROBLEM = /`(11:20 LF_UNKNOWN_TASK [^`]+)`/.exec(section)![1]!;
