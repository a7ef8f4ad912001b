/**
 * Skill routing's hold (docs/limits.md#skills): an attempt of a task with `requires:` waits SCHEDULED while nobody
 * serving its queue has every skill it lists, rather than start and time out with nobody to take it. Who has which
 * skills is the executor's to say (SkillCheck): on the embedded store this process's `--skills` and the file agents
 * declared on the queue, on NATS the workers the engine hears (cluster/transport/presence.ts). Where the attempt then
 * goes to one with the skills is the transport's (a NATS subject named by them; a file agent that has them).
 */
import type { GatePart, TaskGate } from '../runtime/index.js';

/** Whether someone serving the attempt's queue and handler has every one of `skills`; a number: cannot tell yet, ask again in that many ms. */
export type SkillCheck = (skills: readonly string[]) => boolean | number | Promise<boolean | number>;

/** How often an attempt nobody can take asks again. */
const SKILL_POLL_MS = 2_000;

/** The skill parts of a gate (one at most: a task's `requires:`). */
const skillParts = (gate: TaskGate): GatePart[] => gate.parts.filter((p) => p.skills !== undefined);

export type SkillAsk = { granted: true } | { granted: false; retryInMs: number; skills: readonly string[] };

/** Asks whether the attempt's required skills are served; granted when the gate requires none or no check is given. */
export async function askSkills(gate: TaskGate, check: SkillCheck | undefined): Promise<SkillAsk> {
  if (!check) return { granted: true };
  for (const p of skillParts(gate)) {
    const answer = await check(p.skills!);
    if (answer === true) continue;
    return { granted: false, retryInMs: answer === false ? SKILL_POLL_MS : Math.max(100, answer), skills: p.skills! };
  }
  return { granted: true };
}

export const hasSkills = (have: Iterable<string>, need: readonly string[]): boolean => {
  const set = have instanceof Set ? (have as ReadonlySet<string>) : new Set(have);
  return need.every((s) => set.has(s));
};
