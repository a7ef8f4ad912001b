/** The request bodies of the API, checked with zod at the boundary; a failure is a 400 naming the field. */
import { z } from 'zod';
import { SignalBodySchema } from '../events/index.js';
import { ApiError } from './errors.js';

const as = z.string().min(1).max(200).optional();
export const DecisionBody = z.object({ task: z.string().min(1).max(200), comment: z.string().max(4000).optional(), as }).strict();
export const SignalBody = z.object({ name: z.string(), data: z.unknown().optional(), as }).strict();
export const ControlBody = z.object({ reason: z.string().max(1000).optional(), as }).strict();
export const RetryBody = z.object({ as }).strict();
export const StartBody = z.object({ input: z.record(z.string(), z.unknown()).default({}), version: z.number().int().positive().optional() }).strict();
export const EmitBody = z.object({ data: z.unknown().default({}), id: z.string().min(1).max(200).optional() }).strict();
export const SessionBody = z.object({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).strict();

/** Parses `value` or throws a 400 naming the first bad field. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.length > 0 ? issue.path.join('.') : '(body)';
  const what = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: ${what}`, { field });
}

/** A signal's name and data as the wire checks them (name pattern, 64 KB of data). */
export function checkSignal(name: string, data: unknown): void {
  parseBody(SignalBodySchema, { name, ...(data !== undefined ? { data } : {}) });
}
