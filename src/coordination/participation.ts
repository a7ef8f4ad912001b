/**
 * Agent participation per workflow (agent participation tracking): of the runs the run index holds, per workflow, who
 * took part and in how many runs — whoever reported a task's outcome (a worker's NATS user, a file agent), decided an
 * approval, or is assigned a task. Pure: the index's records in, the rows out.
 */

export interface WorkflowParticipation {
  workflow: string;
  runs: number;
  agents: { name: string; runs: number }[];
}

/** Workflows by id, each with its runs counted and its agents by runs (most first, then by name). */
export function participationOf(
  records: readonly { workflowId: string; agents: readonly string[] }[],
): WorkflowParticipation[] {
  const byWorkflow = new Map<string, { runs: number; agents: Map<string, number> }>();
  for (const r of records) {
    let w = byWorkflow.get(r.workflowId);
    if (!w) byWorkflow.set(r.workflowId, (w = { runs: 0, agents: new Map() }));
    w.runs++;
    for (const a of new Set(r.agents)) w.agents.set(a, (w.agents.get(a) ?? 0) + 1);
  }
  return [...byWorkflow]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([workflow, w]) => ({
      workflow,
      runs: w.runs,
      agents: [...w.agents]
        .map(([name, runs]) => ({ name, runs }))
        .sort((a, b) => b.runs - a.runs || (a.name < b.name ? -1 : 1)),
    }));
}
