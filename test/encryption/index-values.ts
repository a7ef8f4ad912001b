/**
 * The run index of an encrypted run, as a user sees it (issue 63): a workflow whose index rows depend on its values
 * (search attributes from the input and from a SET on the branch a DECISION takes on the input, the output), run
 * once in clear and once with LF_DATA_KEY. What `list`, `stats` and `/api/runs` answer must be the same for both.
 */
import { NAME } from './docs-page.js';

export const ORDERS_YAML = `workflow:
  id: orders
  version: 1
  input:
    required:
      - customer: { type: string }
      - amount: { type: number }
      - tier: { type: string }
  search:
    customer: "\${workflow.input.customer}"
    amount: { value: "\${workflow.input.amount}", type: number }
    stage: "new"
  tasks:
    - id: route
      type: DECISION
      decision_param: "\${workflow.input.tier}"
      decision_cases:
        gold: { next: [gold_rate] }
        default: { next: [plain_rate] }
    - id: gold_rate
      type: SET
      values: { rate: 2 }
      search: { stage: "gold" }
    - id: gold_notice
      type: COMMAND
      depends_on: [gold_rate]
      command: [echo, "gold for \${workflow.input.customer}"]
    - id: plain_rate
      type: SET
      values: { rate: 1 }
      search: { stage: "plain" }
  output:
    customer: "\${workflow.input.customer}"
`;

export const ORDER_ARGS = ['--customer', NAME, '--amount', '250', '--tier', 'gold'];

/** A list row without what differs between two runs of the same input (times). */
export function comparable(row: Record<string, unknown>): Record<string, unknown> {
  const { startedAt: _s, completedAt: _c, durationMs: _d, lastSeq: _l, ...rest } = row;
  if (rest.tasks && typeof rest.tasks === 'object')
    rest.tasks = Object.fromEntries(
      Object.entries(rest.tasks as Record<string, Record<string, unknown>>).map(([id, t]) => {
        const { durationMs: _t, ...task } = t;
        return [id, task];
      }),
    );
  return rest;
}

/** `stats --json` without the time figures. */
export function statsCounts(stats: Record<string, any>): Record<string, unknown> {
  return {
    runs: stats.runs,
    task_success_rate: stats.task_success_rate,
    retry_count: stats.retry_count,
    failure_rate: stats.failure_rate,
  };
}

/** The `--where` filters the docs show (docs/queries.md), each with the runs it should find. */
export const FILTERS: string[][] = [
  ['--where', `customer=${NAME}`],
  ['--where', 'amount>100'],
  ['--where', 'stage=gold'],
  ['--output-contains', NAME.slice(0, 12)],
];
