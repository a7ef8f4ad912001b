/** What an HTTP task's schema cannot say (docs/language.md#http-tasks): each at its line:col. */
import type { CheckContext } from './context.js';
import type { RawPath } from './issues.js';
import type { HttpTask } from './task-types.js';

/** An HTTP task needs a URL of http(s) (a template may give it whole); it runs no handler and takes no input of its own. */
export function checkHttp(ctx: CheckContext, t: HttpTask, raw: Record<string, unknown>, p: RawPath): void {
  if (raw.url === undefined) {
    ctx.error(
      'LF_MISSING_FIELD',
      `HTTP task ${t.id} needs url, e.g. url: https://api.example.com/customers/\${workflow.input.customer}`,
      p,
    );
  } else if (typeof raw.url === 'string' && !raw.url.startsWith('${') && !/^https?:\/\/[^\s/?#]/i.test(raw.url)) {
    ctx.error(
      'LF_HTTP_URL',
      `url of HTTP task ${t.id} is ${JSON.stringify(raw.url)}; a URL starts with http:// or https:// and a host (or with a template that gives it), e.g. https://api.example.com/orders`,
      [...p, 'url'],
    );
  }
  for (const name of Object.keys(t.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      ctx.error(
        'LF_HTTP_HEADER',
        `headers of HTTP task ${t.id}: "${name}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, no spaces or colons)`,
        [...p, 'headers', name],
        { onKey: true },
      );
    }
  }
  if ((t.method === 'GET' || t.method === 'HEAD') && raw.body !== undefined) {
    ctx.error(
      'LF_CONFLICT',
      `HTTP task ${t.id} sends a body with ${t.method}; a ${t.method} request has none: use POST, PUT or PATCH, or put the values in query`,
      [...p, 'body'],
      { onKey: true },
    );
  }
  for (const key of ['handler', 'input'] as const) {
    if (raw[key] !== undefined)
      ctx.warn(
        'LF_FIELD_IGNORED',
        `${key} is ignored on HTTP task ${t.id}: it sends its request (url, headers, query, body), not a handler's input`,
        [...p, key],
        { onKey: true },
      );
  }
}
