/**
 * An attempt's secrets at its edge (the in-process driver, a NATS worker): the values put into the strings the core
 * marked (StartAttempt.secrets, TaskMessage.secrets) when the attempt starts, and every outcome masked before it leaves
 * the edge: an output, an error, a log line, a file written for output_to. A value is replaced by `[secret NAME]`
 * wherever it occurs, in keys and text alike, as written and in the forms it travels in (URL-encoded, base64,
 * JSON-escaped, hex: mask.ts).
 */
import { NonRetryableError } from '../errors/index.js';
import type { SecretSite } from '../expressions/index.js';
import type { SecretsProvider } from './providers.js';
import { type Masker, NO_MASK, masker } from './mask.js';

/** The input and command an attempt runs with, its values put in. */
export interface WithSecrets<C> {
  input: Record<string, unknown>;
  command: C;
  /** What masks its outcomes: identity when the attempt names no secret. */
  mask: Masker;
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
 * The attempt's input and command with the values put in where the core marked them. A secret the provider does not
 * have fails the attempt, not retried: `LF_SECRET_MISSING`, naming it (never a value).
 */
export async function applySecrets<C>(
  sites: readonly SecretSite[] | undefined,
  input: Record<string, unknown>,
  command: C,
  provider: SecretsProvider | undefined,
): Promise<WithSecrets<C>> {
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
    throw new NonRetryableError(
      `secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found (looked in: ${where}); set ${missing.length > 1 ? 'them' : 'it'} with \`ledgerflow secrets set ${missing[0]}\` or LEDGERFLOW_SECRET_${missing[0]}`,
      'LF_SECRET_MISSING',
    );
  }
  // structuredClone: the effect's input is the core's (and its references what logs show): never changed here.
  const root = structuredClone({ input, command }) as { input: Record<string, unknown>; command: C };
  for (const site of sites) {
    setAt(
      root as unknown as Record<string, unknown>,
      site.path,
      site.parts.map((p) => (typeof p === 'string' ? p : values.get(p.secret)!)).join(''),
    );
  }
  return { input: root.input, command: root.command, mask: masker(values) };
}
