/**
 * `ledgerflow limits set <file>` and `ledgerflow limits show`: the limits per queue and per handler
 * (docs/limits.md#limits-per-queue-or-handler), validated and stored in the store every process reads them from (the
 * embedded store's `<store>/gates/limits.json`, KV LF_TASK_GATES `limits` on NATS). A file with any problem is refused,
 * exit 2, and nothing stored changes.
 */
import { requireAllowed } from '../../authority/index.js';
import { readFileSync } from 'node:fs';
import { durationText } from '../../compiler/index.js';
import { parseLimits, type GlobalLimits, type LimitSpec } from '../../definition/index.js';
import { UsageError, errorMessage, formatDiagnostic } from '../../errors/index.js';
import { allBreakers, readLimits, writeLimits } from '../../limits/index.js';
import { breakerLine } from './breaker.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';
import { waitFlag } from '../flags/input-flags.js';

const specText = (s: LimitSpec): string =>
  [
    ...(s.concurrency ? [`concurrency limit ${s.concurrency.limit}`] : []),
    ...(s.rateLimit ? [`rate limit ${s.rateLimit.limit} per ${durationText(s.rateLimit.perMs)}`] : []),
    ...(s.breaker
      ? [
          `breaker: open ${durationText(s.breaker.openForMs)} after ${s.breaker.failures} failure${s.breaker.failures === 1 ? '' : 's'} in ${durationText(s.breaker.windowMs)}`,
        ]
      : []),
  ].join(', ');

function lines(limits: GlobalLimits | undefined): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(limits?.queues ?? {})) out.push(`queue ${inert(name)}: ${specText(s)}`);
  for (const [name, s] of Object.entries(limits?.handlers ?? {})) out.push(`handler ${inert(name)}: ${specText(s)}`);
  return out.length > 0 ? out : ['no limits per queue or handler (set them with `ledgerflow limits set <file>`)'];
}

export async function limitsSetCmd(
  io: Io,
  g: GlobalOpts,
  file: string,
  opts: { json?: boolean; wait?: string },
): Promise<number> {
  const side = await sideFor(g);
  requireAllowed((await side.acting(undefined)).actor, 'limits'); // the bridge's (L1), where a users file says who is who
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, { file });
  }
  const parsed = parseLimits(text, file);
  for (const d of parsed.diagnostics) io.err(inert(formatDiagnostic(d)));
  if (!parsed.limits) {
    if (opts.json) io.out(json({ file, stored: false, diagnostics: parsed.diagnostics }));
    return EXIT.usage;
  }
  // Over NATS as a person's user (who may not write the cluster's buckets): the engines judge the level (L1) and store them.
  if (!(await side.mayWrite())) return limitsAsPerson(io, g, file, text, opts);
  await writeLimits(storeFor(g), parsed.limits);
  return stored(io, file, parsed.limits, opts);
}

/** The limits stored, as `limits set` says it (here, or by an engine for a person). */
function stored(io: Io, file: string, limits: GlobalLimits | undefined, opts: { json?: boolean }): number {
  if (opts.json) io.out(json({ file, stored: true, limits }));
  else {
    io.out(
      `stored the limits of ${inert(file)}; every run, serve, ui and engine of this store holds attempts to them:`,
    );
    for (const l of lines(limits)) io.out(`  ${l}`);
  }
  return EXIT.ok;
}

/** `limits set` as a person over NATS: the engines' answer, or queued (exit 3) when none came within --wait. */
async function limitsAsPerson(
  io: Io,
  g: GlobalOpts,
  file: string,
  text: string,
  opts: { json?: boolean; wait?: string },
): Promise<number> {
  const [{ natsUrl }, { requestLimits }] = await Promise.all([
    import('./cluster.js'),
    import('../../cluster/index.js'),
  ]);
  const waitMs = waitFlag(opts.wait);
  const out = await requestLimits(natsUrl(g), { file, text }, waitMs);
  if (out.queued) {
    if (opts.json) io.out(json({ file, stored: false, queued: true }));
    else
      io.out(
        waitMs === 0
          ? `published the limits of ${inert(file)}; an engine judges your level and stores them`
          : `queued: no engine answered within ${waitMs} ms; the limits of ${inert(file)} wait in LF_REQUESTS for the next engine, which judges your level and stores them`,
      );
    return waitMs === 0 ? EXIT.ok : EXIT.waiting;
  }
  return stored(io, file, out.verdict.limits as GlobalLimits | undefined, opts);
}

export async function limitsShowCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  const store = storeFor(g);
  const limits = await readLimits(store);
  // Every breaker met so far (a task's, a queue's, a handler's), with its state now.
  const breakers = await allBreakers(store, Date.now());
  if (opts.json) io.out(json({ limits: limits ?? { queues: {}, handlers: {} }, breakers }));
  else for (const l of [...lines(limits), ...breakers.map(breakerLine)]) io.out(l);
  return EXIT.ok;
}
