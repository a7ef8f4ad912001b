/**
 * A file-system refusal (ENOSPC, EROFS, EACCES, ENOTDIR…) that is the store's place at fault, not a bug: a
 * StoreUnusableError naming the problem and the fix (the CLI exits 2, nothing recorded). Any other failure stays a
 * StoreError with the system's message. Keeps `cause`.
 */
import { StoreError, StoreUnusableError, errorMessage, type JsonSafe } from '../errors/index.js';

const FIXES: Record<string, string> = {
  ENOSPC: 'the disk is full: free space on it, or point --store (LEDGERFLOW_STORE) at a directory on another disk',
  EDQUOT: 'the disk quota is used up: free space in it, or point --store (LEDGERFLOW_STORE) at a directory outside it',
  EROFS: 'the file system is read-only: point --store (LEDGERFLOW_STORE) at a writable directory',
  EACCES:
    'permission denied: give this user write access to it, or point --store (LEDGERFLOW_STORE) at a directory it can write',
  EPERM:
    'permission denied: give this user write access to it, or point --store (LEDGERFLOW_STORE) at a directory it can write',
  ELOOP:
    'it is a symbolic link, which the store does not follow (it would write outside the store): remove the link, which someone put there, and put the file back from a copy',
  ENOTDIR:
    'a part of the path is a file, not a directory: point --store (LEDGERFLOW_STORE) at a directory (it is created if missing)',
};

/** The errno code of a file-system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `what` (e.g. `cannot append to <file>`) failed with `err`: unusable store (with its fix) or a StoreError. */
export function storeIoError(
  what: string,
  err: unknown,
  meta: Record<string, JsonSafe | undefined> = {},
  after = '',
): StoreError {
  const code = errnoOf(err);
  const fix = code !== undefined ? FIXES[code] : undefined;
  return fix
    ? new StoreUnusableError(`${what}: ${fix} (${code})${after}`, { ...meta, errno: code }, { cause: err })
    : new StoreError(`${what}: ${errorMessage(err)}${after}`, meta, { cause: err });
}
