/**
 * The queues whose attempts file agents take on a store that keeps shared documents (the embedded file store):
 * `ledgerflow agent --queue q` declares its queue here, and every engine driving a run on the store then holds the
 * attempts of that queue's tasks for an agent instead of running a handler (local/in-process-attempts.ts). A
 * declaration stays until withdrawn (`ledgerflow agent --queue q --withdraw`): an agent that is stopped for a while
 * leaves its tasks waiting for it, as a NATS queue with no worker does, rather than run by an engine that has no
 * handler for them.
 */
import { z } from 'zod';
import { LEVELS } from '../authority/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { failureStepOf, handlerName, mapBody, type TaskDef } from '../definition/index.js';
import { StoreError } from '../errors/index.js';
import { attemptQueue } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';

const AGENT_QUEUES_DOC = 'agent-queues';

/** `skillSets`: each agent's skills that declared the queue (`skills`: the last one's, as before skill routing). */
const Declared = z.object({
  level: z.enum(LEVELS),
  skills: z.array(z.string()),
  since: z.string(),
  skillSets: z.array(z.array(z.string())).optional(),
});
const AgentQueuesSchema = z.object({ queues: z.record(z.string(), Declared) });
type AgentQueue = z.infer<typeof Declared>;

/** The declared queues (with what each agent said of itself when it declared it). */
async function readAgentQueueDoc(store: EventStore): Promise<Record<string, AgentQueue>> {
  if (!store.readShared) return {};
  const doc = await store.readShared(AGENT_QUEUES_DOC);
  if (doc === null || doc === undefined) return {};
  const parsed = AgentQueuesSchema.safeParse(doc);
  if (!parsed.success)
    throw new StoreError(
      `the stored agent queues (shared document ${AGENT_QUEUES_DOC}) are not what ledgerflow wrote: start \`ledgerflow agent --queue <q>\` again to declare them afresh after removing gates/${AGENT_QUEUES_DOC}.json`,
      { doc: AGENT_QUEUES_DOC },
    );
  return parsed.data.queues;
}

/** The names of the queues file agents serve on this store (none on a store without shared documents). */
export async function readAgentQueues(store: EventStore): Promise<ReadonlySet<string>> {
  return new Set(Object.keys(await readAgentQueueDoc(store)));
}

/** Declares (or, `withdraw`, withdraws) a queue as served by file agents for every process on the store. */
export async function declareAgentQueue(
  store: EventStore,
  queue: string,
  info: AgentQueue | 'withdraw',
): Promise<void> {
  if (!store.updateShared)
    throw new StoreError(
      'this store keeps no shared documents: file agents take attempts from the embedded file store or over NATS',
      {},
    );
  await store.updateShared(AGENT_QUEUES_DOC, (doc) => {
    const parsed = AgentQueuesSchema.safeParse(doc);
    const queues = { ...(parsed.success ? parsed.data.queues : {}) };
    if (info === 'withdraw') delete queues[queue];
    else {
      // Every skill set that declared the queue is kept (two agents of one queue with different skills), each once.
      const before = queues[queue];
      const sets = [...(before ? (before.skillSets ?? [before.skills]) : []), info.skills].map((s) => [...s].sort());
      const skillSets = [...new Map(sets.map((s) => [s.join('+'), s])).values()].slice(-50);
      queues[queue] = { ...info, skillSets };
    }
    return { doc: { queues }, result: null };
  });
}

/** The skill sets of the file agents declared on `queue` (none: no agent, or agents without skills). */
export async function agentSkillSets(store: EventStore, queue: string): Promise<string[][]> {
  const q = (await readAgentQueueDoc(store))[queue];
  return q ? (q.skillSets ?? [q.skills]) : [];
}

/**
 * Whether the attempts of task `taskId` are file agents' work: a handler's (a SIMPLE task, or a MAP's items
 * run by a handler) on a queue they serve. A COMMAND program, a child run, an EMIT or a built-in failure step
 * is the engine's own, whatever its queue.
 */
export function forFileAgents(
  compiled: CompiledWorkflow,
  taskId: string,
  agentQueues: ReadonlySet<string> | undefined,
): boolean {
  if (!agentQueues || agentQueues.size === 0) return false;
  const queue = attemptQueue(compiled, taskId);
  const def = compiled.definition.tasks.find((t) => t.id === taskId);
  return (
    queue !== undefined &&
    agentQueues.has(queue) &&
    def !== undefined &&
    agentTaskBody(compiled.definition.tasks, def) !== null
  );
}

/** The task whose handler runs `def`'s attempts when they are file agents' kind of work; else null. */
export function agentTaskBody(tasks: readonly TaskDef[], def: TaskDef): TaskDef | null {
  if (def.type === 'MAP' && (def.workflow !== undefined || def.fork !== undefined)) return null;
  const body = def.type === 'MAP' ? mapBody(tasks, def) : def;
  return (body.type === 'SIMPLE' || body.type === 'MAP') && failureStepOf(handlerName(body)) === null ? body : null;
}
