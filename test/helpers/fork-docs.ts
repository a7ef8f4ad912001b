/** docs/runs.md "Forking a run": its order.yaml, read from the page (so the tests follow the docs), and its handlers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

const section = (() => {
  const text = readFileSync(join(ROOT, 'docs', 'runs.md'), 'utf8');
  return text.slice(text.indexOf('## Forking a run'));
})();

/** The page's order.yaml, word for word. */
export const ORDER_YAML = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;

/**
 * The page's handlers, each call also a line in `<dir>/calls` (to tell a reused task from one run again); `more`:
 * further handlers, as object entries.
 */
export const forkHandlers = (dir: string, more = '') => `import { appendFileSync } from 'node:fs';
const note = (id) => appendFileSync(${JSON.stringify(join(dir, 'calls'))}, id + '\\n');
export default {
  fetch: async () => (note('fetch'), { items: 3 }),
  price: async (input) => (note('price'), { total: input.amount * 2 }),
  ship: async () => (note('ship'), { shipped: true }),
${more}};
`;
