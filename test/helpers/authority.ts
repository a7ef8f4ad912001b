/** docs/users.md's own workflow, as the authority tests write it (its domain and the Commander's review). */
export const STOCK_COUNT = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
`;

/** The same workflow in another domain (finance): an inventory Station OPS may not start it. */
export const PAYROLL = STOCK_COUNT.replace('stock-count', 'payroll').replace('domain: inventory', 'domain: finance');
