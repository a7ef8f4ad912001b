// Handlers of the screenshot workflows: fetch fails its first attempt (a retry to show), and always when
// `broken` until the file feed-fixed exists in the working directory (then a retry from failed completes).
import { existsSync } from 'node:fs';

export default {
  async fetch(input, ctx) {
    if (input.broken && !existsSync('feed-fixed')) throw new Error(`feed ${input.feed}: 502 Bad Gateway`);
    if (ctx.attempt === 1) throw new Error('connection reset by peer');
    return { rows: Number(input.rows), feed: input.feed };
  },
  async store(_input) {
    return { stored: true };
  },
  async index() {
    return { indexed: true };
  },
  async notify() {
    return { notified: ['#data-feeds'] };
  },
};
