/**
 * Library errors in the CLI's words. The library names what is missing (an input, a handler) as its callers give it —
 * an input's name, the `handlers` option — and the CLI, which knows its flags, adds how to pass it there:
 * `--who <value>`, `--handlers <module>`. Applied once, where main() reports an error, so every command speaks the same
 * way.
 */
import { HandlerError, InputError, LedgerflowError, RunNotFoundError } from '../../errors/index.js';

export function inCliTerms(err: unknown): unknown {
  if (!(err instanceof LedgerflowError)) return err;
  const missing = Array.isArray(err.meta.missing)
    ? err.meta.missing.filter((m): m is string => typeof m === 'string')
    : [];
  if (err instanceof InputError && missing.length > 0) {
    return new InputError(
      `${err.message} (pass ${missing.map((m) => `--${m} <value>`).join(' ')}, or --input-file <file>)`,
      err.meta,
    );
  }
  if (err instanceof HandlerError && err.code === 'LF_HANDLER_NOT_FOUND' && missing.length > 0) {
    const message = err.message.replace('the `handlers` option', '--handlers <module>');
    return new HandlerError(
      err.code,
      message === err.message ? `${err.message} (--handlers <module>)` : message,
      err.meta,
      { cause: err.cause },
    );
  }
  if (err instanceof RunNotFoundError) {
    const cli = new RunNotFoundError(String(err.meta.runId));
    cli.message = `${err.message} (check the id with \`ledgerflow list\`, or pass --store <dir> / --nats <url>)`;
    return cli;
  }
  return err;
}
