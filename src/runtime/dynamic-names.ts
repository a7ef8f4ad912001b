/**
 * Names chosen at run time: a SIMPLE task's `handler: ${...}` (Conductor's DYNAMIC task) and a SUB_WORKFLOW's
 * `workflow: ${...}`, resolved when an attempt starts, against the same recorded state its input is resolved from, so
 * every engine (and a replay) that asks again for the same attempt gets the same name. A SUB_WORKFLOW's child records
 * in its run.started the id and version it ran: that is the pin a restarted attempt finds (the child exists).
 */
import { resolveTemplate, type Scope } from '../expressions/index.js';

/** Whether the name is a template, resolved per attempt. */
export const isDynamicName = (name: string): boolean => name.includes('${');

/** The name a template gives in `scope`: its value as text ('' when it resolves to null or nothing). */
export function resolveName(name: string, scope: Scope): string {
  if (!isDynamicName(name)) return name;
  const v = resolveTemplate(name, scope);
  return v === null || v === undefined ? '' : typeof v === 'string' ? v.trim() : JSON.stringify(v);
}
