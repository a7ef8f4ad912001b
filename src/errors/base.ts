/**
 * The base of every error ledgerflow raises on purpose (LedgerflowError) and the JSON-safe meta it carries: a file of
 * its own so the errors/ files each extend it without importing the module's entry (errors/index.ts).
 */
import { kindOf, type ErrorCode, type ErrorKind } from './codes.js';

export type JsonSafe = string | number | boolean | null | JsonSafe[] | { [k: string]: JsonSafe | undefined };

/**
 * `kind` overrides the code's own kind for this one error: a refusal that is a NATS permissions violation keeps its
 * code (LF_APPROVAL_REFUSED) and is a permission error (exit 2, HTTP 403).
 */
export interface ErrorOptions {
  cause?: unknown;
  kind?: ErrorKind;
}

export class LedgerflowError extends Error {
  readonly code: ErrorCode;
  readonly meta: Record<string, JsonSafe | undefined>;
  /** What the error means to a caller (src/errors/codes.ts): read by the CLI's exit code and the HTTP status. */
  readonly kind: ErrorKind;
  constructor(
    code: ErrorCode,
    message: string,
    meta: Record<string, JsonSafe | undefined> = {},
    options?: ErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.meta = meta;
    this.kind = options?.kind ?? kindOf(code);
  }
  toJSON(): { code: string; message: string; meta: Record<string, JsonSafe | undefined> } {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}
