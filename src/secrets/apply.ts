/**
 * An attempt's secrets at its edge (the in-process driver, a NATS worker): the values put into the strings the
 * core marked (StartAttempt.secrets, TaskMessage.secrets) when the attempt starts, and every outcome masked
 * before it leaves the edge: an output, an error, a log line, a file written for output_to. A value is
 * replaced by `[secret NAME]` wherever it occurs, in keys and text alike.
 */
import { NonRetryableError } from '../errors/index.js';
import type { SecretSite } from '../expressions/index.js';
import type { SecretsProvider } from './providers.js';

/** The input and command an attempt runs with, its values put in. */
export interface WithSecrets<C> {
  input: Record<string, unknown>;
  command: C;
  /** What masks its outcomes: identity when the attempt names no secret. */
  mask: Masker;
}

export interface Masker {
  /** A JSON value with every secret's value replaced (new objects; the argument is not changed). */
  value<T>(v: T): T;
  text(s: string): string;
  /** How many values it masks (0: the attempt named no secret). */
  readonly size: number;
}

export const NO_MASK: Masker = { value: (v) => v, text: (s) => s, size: 0 };

/** A masker for these name → value pairs (empty values are not masked: they would be everywhere). */
export function masker(values: ReadonlyMap<string, string>): Masker {
  // Longest first: a value that contains another is masked whole.
  const pairs = [...values].filter(([, v]) => v.length > 0).sort((a, b) => b[1].length - a[1].length);
  if (pairs.length === 0) return NO_MASK;
  const text = (s: string): string => {
    let out = s;
    for (const [name, v] of pairs) if (out.includes(v)) out = out.split(v).join(`[secret ${name}]`);
    return out;
  };
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(value);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x)]));
    return v;
  };
  return { text, value: value as <T>(v: T) => T, size: pairs.length };
}

/** Own properties only, defined rather than assigned: a path can never reach or change a prototype. */
function setAt(root: Record<string, unknown>, path: readonly (string | number)[], v: string): void {
  let at: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, path[i]!)) return;
    at = (at as Record<string | number, unknown>)[path[i]!];
  }
  const last = path[path.length - 1]!;
  if (at === null || typeof at !== 'object' || !Object.hasOwn(at, last)) return;
  Object.defineProperty(at, last, { value: v, writable: true, enumerable: true, configurable: true });
}

/**
 * The attempt's input and command with the values put in where the core marked them. A secret the provider
 * does not have fails the attempt, not retried: `LF_SECRET_MISSING`, naming it (never a value).
 */
export async function applySecrets<C>(sites: readonly SecretSite[] | undefined, input: Record<string, unknown>, command: C, provider: SecretsProvider | undefined): Promise<WithSecrets<C>> {
  if (!sites || sites.length === 0) return { input, command, mask: NO_MASK };
  const names = [...new Set(sites.flatMap((s) => s.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.secret]))))];
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const name of names) {
    const v = provider ? await provider.get(name) : undefined;
    if (v === undefined) missing.push(name);
    else values.set(name, v);
  }
  if (missing.length > 0) {
    const where = provider ? provider.label : 'no secrets provider';
    throw new NonRetryableError(`secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found (looked in: ${where}); set ${missing.length > 1 ? 'them' : 'it'} with \`ledgerflow secrets set ${missing[0]}\` or LEDGERFLOW_SECRET_${missing[0]}`, 'LF_SECRET_MISSING');
  }
  // structuredClone: the effect's input is the core's (and its references what logs show): never changed here.
  const root = structuredClone({ input, command }) as { input: Record<string, unknown>; command: C };
  for (const site of sites) {
    setAt(root as unknown as Record<string, unknown>, site.path, site.parts.map((p) => (typeof p === 'string' ? p : values.get(p.secret)!)).join(''));
  }
  return { input: root.input, command: root.command, mask: masker(values) };
}
