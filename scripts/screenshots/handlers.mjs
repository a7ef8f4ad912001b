// Handlers of the screenshot workflows: fetch fails its first attempt (a retry to show) or always when `broken`.
export default {
  async fetch(input, ctx) {
    if (input.broken) throw new Error(`feed ${input.feed}: 502 Bad Gateway`);
    if (ctx.attempt === 1) throw new Error('connection reset by peer');
    return { rows: Number(input.rows), feed: input.feed };
  },
  async store(input) { return { stored: true }; },
  async index() { return { indexed: true }; },
  async notify() { return { notified: ['#data-feeds'] }; },
};
