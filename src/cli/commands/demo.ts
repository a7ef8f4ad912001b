/** `ledgerflow demo [--store d] [--json]` (`npm start`): a thin wrapper over runDemo (src/demo). */
import { runDemo, demoText } from '../../demo/index.js';
import { UsageError } from '../../errors/index.js';
import type { Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import type { GlobalOpts } from '../flags/store.js';

export async function demoCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  if (g.nats)
    throw new UsageError(
      'the demo runs on the embedded store, with no server; leave --nats out (the NATS tour is in docs/nats.md#quick-start: ledgerflow dev, engine, worker)',
      {},
    );
  // With --json, stdout carries only the summary; the live progress goes to stderr.
  const say = opts.json ? io.err : io.out;
  const report = await runDemo({ ...(g.store !== undefined ? { storeDir: g.store } : {}), say });
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of demoText(report)) io.out(line);
  return report.ok ? EXIT.ok : EXIT.failed;
}
