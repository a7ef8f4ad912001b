// The child side of a peer's driver (dbos.mjs, restate.mjs, bullmq.mjs): a process of its own that runs one
// peer's five-step workflow, told what to do by bench/peers.ts one JSON line at a time on stdin and answering
// one JSON line on fd 3 (stdout and stderr stay the peer library's own logs). It times its own rounds, so the
// messages to and from the bench cost the peer nothing:
//   {"id":1,"op":"round","workflows":1000,"inFlight":64}  →  {"id":1,"rate":812.5}   (workflows/s, closed loop)
//   {"id":2,"op":"oneAtATime","n":20}                      →  {"id":2,"ms":[…]}       (start to result, each)
//   {"id":3,"op":"close"}                                  →  {"id":3}, then the process exits
// It answers {"ready":true} first, once `one` can run; {"id":…,"error":"…"} when an op fails.
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** `one(tag)` runs one workflow to its result; `close()` lets the peer's library stop. */
export async function serveDriver({ one, close }) {
  const out = createWriteStream(null, { fd: 3 });
  const answer = (msg) => out.write(`${JSON.stringify(msg)}\n`);
  let tag = `${process.pid}-${Date.now()}`;
  let rounds = 0;
  const ops = {
    async round({ workflows, inFlight }) {
      const r = `${tag}-r${rounds++}`;
      let next = 0;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: Math.min(inFlight, workflows) }, async () => {
          while (next < workflows) await one(`${r}-${next++}`);
        }),
      );
      return { rate: workflows / ((performance.now() - t) / 1000) };
    },
    async oneAtATime({ n }) {
      const r = `${tag}-o${rounds++}`;
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await one(`${r}-${i}`);
        ms.push(performance.now() - t);
      }
      return { ms };
    },
    async close() {
      await close();
      return {};
    },
  };
  answer({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line);
    try {
      answer({ id: msg.id, ...(await ops[msg.op](msg)) });
    } catch (err) {
      answer({ id: msg.id, error: String(err?.stack ?? err) });
    }
    if (msg.op === 'close') break;
  }
  tag = '';
  out.end(() => process.exit(0));
}
