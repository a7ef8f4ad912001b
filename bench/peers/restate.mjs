// The Restate side of `npm run bench -- peers` (a process of its own; protocol.mjs says how the bench drives it):
// a service `five` whose handler calls ctx.run five times (s1..s5, each returning { step } as ledgerflow's
// five-step workflow's handlers do; Restate journals each result before the handler goes on), served here on
// argv[2] (HTTP/2, the SDK's own server), registered with the restate-server's admin API at argv[3], and
// invoked through its ingress at argv[4] (POST /five/run, waiting for the result).
import { serveDriver } from './protocol.mjs';

// The SDK calls Promise.withResolvers (Node 22); on Node 20 it is given here, before the SDK is loaded.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new this((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const restate = await import('@restatedev/restate-sdk');

const [port, adminUrl, ingressUrl] = process.argv.slice(2);
const STEPS = ['s1', 's2', 's3', 's4', 's5'];
const five = restate.service({
  name: 'five',
  handlers: {
    run: async (ctx) => {
      for (const s of STEPS) await ctx.run(s, async () => ({ step: s }));
      return 'done';
    },
  },
});
await restate.serve({ services: [five], port: Number(port) });
const reg = await fetch(`${adminUrl}/deployments`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ uri: `http://127.0.0.1:${port}`, force: true }),
  signal: AbortSignal.timeout(60_000),
});
if (!reg.ok) throw new Error(`registering the deployment with ${adminUrl}: ${reg.status} ${await reg.text()}`);
// The ingress learns of the new service a moment after the admin API answers: wait until it takes a call.
for (let i = 0; ; i++) {
  const r = await fetch(`${ingressUrl}/five/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: 'null',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  if (r.ok) break;
  if (i >= 100) throw new Error(`the ingress does not take /five/run: ${r.status} ${text}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await serveDriver({
  one: async () => {
    const r = await fetch(`${ingressUrl}/five/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'null',
    }).catch((err) => {
      throw new Error(`five/run through ${ingressUrl}: ${err.cause?.message ?? err.message}`);
    });
    const text = await r.text();
    if (!r.ok || text !== '"done"') throw new Error(`five/run: ${r.status} ${text}`);
  },
  close: async () => undefined,
});
