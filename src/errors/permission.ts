/**
 * Whether a failure is NATS refusing this user a subject (nats.conf's permissions), read from the error's fields, never
 * from its words: the client's error for it (@nats-io/nats-core's PermissionViolationError, with the `subject` refused;
 * a request's RequestError has it as `cause`), or a ledgerflow error made from one (kind `permission`,
 * `meta.forbidden`), looked for through `cause`. Duck-typed: this module loads no client (and imports nothing, so
 * errors/index.ts may re-export it).
 */

/** How deep to follow `cause` (a wrapped error is wrapped a few times at most). */
const MAX_CAUSES = 8;

/** The subject NATS refused ('' when it named none), or null when `thrown` is no permissions violation. */
export function permissionDenied(thrown: unknown): string | null {
  let e: unknown = thrown;
  for (let depth = 0; depth < MAX_CAUSES && typeof e === 'object' && e !== null; depth++) {
    const f = e as { name?: unknown; subject?: unknown; kind?: unknown; meta?: { forbidden?: unknown } };
    if (f.kind === 'permission' && typeof f.meta?.forbidden === 'string') return f.meta.forbidden;
    if (f.name === 'PermissionViolationError') return typeof f.subject === 'string' ? f.subject : '';
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}
