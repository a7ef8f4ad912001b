/**
 * `ledgerflow dlq list|show|replay|purge` over NATS: what engines and workers gave up on (streams LF_DLQ and
 * LF_DLQ_WORKERS) and who wrote each, one dead letter in full, publishing a kept body an engine wrote again on its
 * original subject, and deleting dead letters.
 */
import { z } from 'zod';
import {
  DEAD_LETTER_KINDS,
  DeadLetterQueue,
  parseDeadLetterId,
  writerText,
  type DeadLetterEntry,
} from '../../cluster/index.js';
import { DeadLetterNotReplayableError, UsageError } from '../../errors/index.js';
import { json, type Io } from '../render/io.js';
import { withClient } from './cluster.js';
import { EXIT } from '../render/exit.js';
import { inert, inertLines } from '../../terminal/index.js';
import type { GlobalOpts } from '../flags/store.js';
import { jetstream, jetstreamManager } from '../../store/index.js';

function kindFlag(kind: string | undefined): string | undefined {
  if (kind === undefined) return undefined;
  const r = z.enum(DEAD_LETTER_KINDS).safeParse(kind);
  if (!r.success)
    throw new UsageError(`--kind ${kind} is not a kind of dead letter; use one of ${DEAD_LETTER_KINDS.join(', ')}`, {
      kind,
    });
  return r.data;
}

/** A dead letter's id as `dlq list` shows it: an engine's its sequence (12), a worker's its sequence with a w (w12). */
function idArg(text: string | undefined): string {
  if (text === undefined || parseDeadLetterId(text) === null) {
    throw new UsageError(
      `${text ?? '(none)'} is not a dead letter's id: give the one \`ledgerflow dlq list\` shows (12 for an engine's, w12 for a worker's)`,
      { value: text ?? null },
    );
  }
  return text;
}

function withQueue<T>(g: GlobalOpts, fn: (q: DeadLetterQueue) => Promise<T>): Promise<T> {
  return withClient(g, async (c) => {
    const nc = await c.store.connection();
    return fn(new DeadLetterQueue(await jetstreamManager(nc), jetstream(nc)));
  });
}

const oneLine = (s: string, n: number) => {
  const t = inert(s.replace(/\s+/g, ' '));
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

function line(e: DeadLetterEntry): string {
  const l = e.letter;
  const size = l?.size !== undefined ? `${l.size} B` : '-';
  const from = l?.source ? inert(`${l.source.subject} #${l.source.seq}`) : '-';
  // A letter kept whole that is not replayable says why (a worker wrote it, say); one kept in part says that is why.
  const state = e.replayable ? 'replayable' : l?.raw === undefined ? 'kept-part ' : 'read-only ';
  const why =
    e.replayable || l?.raw === undefined ? '' : `\n        not replayable: ${oneLine(e.notReplayable ?? '', 200)}`;
  return `${e.id.padStart(6)}  ${e.kind.padEnd(9)} ${(l?.at ?? e.stored).padEnd(24)} ${state} ${size.padStart(11)}  ${from}  by ${inert(writerText(e.writer))}\n        ${oneLine(l?.reason ?? e.invalid ?? '', 160)}${why}`;
}

export function dlqListCmd(io: Io, g: GlobalOpts, opts: { kind?: string; json?: boolean }): Promise<number> {
  const kind = kindFlag(opts.kind);
  return withQueue(g, async (q) => {
    const entries = await q.list(kind);
    if (opts.json) io.out(json(entries));
    else {
      for (const e of entries) io.out(line(e));
      io.out(
        `${entries.length} dead letter${entries.length === 1 ? '' : 's'}${kind ? ` of kind ${kind}` : ''} (${entries.filter((e) => e.replayable).length} replayable)`,
      );
    }
    return EXIT.ok;
  });
}

export function dlqShowCmd(io: Io, g: GlobalOpts, idText: string, opts: { json?: boolean }): Promise<number> {
  const id = idArg(idText);
  return withQueue(g, async (q) => {
    const e = await q.show(id);
    if (opts.json) {
      io.out(json(e));
      return EXIT.ok;
    }
    const l = e.letter;
    io.out(
      `dead letter ${e.id} (${e.kind}), stored ${e.stored}, ${e.storedBytes} bytes in ${e.stream} (message ${e.seq})`,
    );
    io.out(`  written: by ${inert(writerText(e.writer))}, on ${inert(e.subject)}`);
    if (!l) {
      io.out(`  ${inertLines(e.invalid ?? '', '    ')}`);
      return EXIT.ok;
    }
    io.out(`  reason:  ${inertLines(l.reason, '           ')}`);
    if (l.at) io.out(`  at:      ${inert(l.at)}`);
    if (l.source)
      io.out(
        `  from:    ${l.source.stream} message ${l.source.seq} on ${inert(l.source.subject)}, delivered ${l.source.deliveries} time${l.source.deliveries === 1 ? '' : 's'}`,
      );
    if (l.size !== undefined) io.out(`  body:    ${l.size} bytes, sha256 ${l.sha256 ?? '?'}`);
    for (const [k, v] of [
      ['run', l.runId],
      ['task', l.taskId],
      ['by', l.by],
      ['stage', l.stage],
    ] as const)
      if (v !== undefined) io.out(`  ${`${k}:`.padEnd(8)} ${inert(v)}`);
    for (const p of l.problems ?? []) io.out(`  problem: ${inert(p)}`);
    io.out(
      e.replayable
        ? '  replay:  yes, the whole body is kept (`ledgerflow dlq replay ' + e.id + '`)'
        : `  replay:  no, ${inert(e.notReplayable ?? '')}`,
    );
    // The body's lines indented under its heading, so none of them passes for a field of the dead letter.
    if (l.raw !== undefined) io.out(`  body (whole):\n    ${inertLines(l.raw, '    ')}`);
    else if (l.excerpt !== undefined)
      io.out(
        `  body (first ${new TextEncoder().encode(l.excerpt).byteLength} bytes${l.truncated ? ', truncated' : ''}):\n    ${inertLines(l.excerpt, '    ')}`,
      );
    return EXIT.ok;
  });
}

export function dlqReplayCmd(
  io: Io,
  g: GlobalOpts,
  idText: string | undefined,
  opts: { all?: boolean; kind?: string; json?: boolean },
): Promise<number> {
  if (opts.all && idText !== undefined) throw new UsageError("give a dead letter's id or --all, not both", {});
  if (!opts.all && opts.kind !== undefined)
    throw new UsageError('--kind goes with --all (one dead letter is named by its id)', {});
  const kind = kindFlag(opts.kind);
  const one = opts.all ? null : idArg(idText);
  return withQueue(g, async (q) => {
    const targets =
      one !== null
        ? [{ id: one, seq: parseDeadLetterId(one)!.seq }]
        : (await q.list(kind)).map((e) => ({ id: e.id, seq: e.seq }));
    const replayed = [];
    const refused: { id: string; seq: number; reason: string }[] = [];
    for (const { id, seq } of targets) {
      try {
        const r = await q.replay(id);
        replayed.push(r);
        if (!opts.json)
          io.out(
            `replayed dead letter ${id}: published again on ${r.subject} (${r.stream} message ${r.streamSeq}); the dead letter is deleted`,
          );
      } catch (err) {
        // One dead letter: its refusal is the command's error (exit 2). With --all: say it and go on.
        if (!(err instanceof DeadLetterNotReplayableError) || one !== null) throw err;
        refused.push({ id, seq, reason: err.message });
        if (!opts.json) io.err(`not replayed: ${inert(err.message)}`);
      }
    }
    if (opts.json) io.out(json({ replayed, refused }));
    else if (one === null) io.out(`${replayed.length} replayed, ${refused.length} kept (not replayable)`);
    return refused.length > 0 ? EXIT.usage : EXIT.ok;
  });
}

export function dlqPurgeCmd(
  io: Io,
  g: GlobalOpts,
  opts: { kind?: string; yes?: boolean; json?: boolean },
): Promise<number> {
  const kind = kindFlag(opts.kind);
  return withQueue(g, async (q) => {
    const what = (n: number) => `${n} dead letter${n === 1 ? '' : 's'}${kind ? ` of kind ${kind}` : ''}`;
    if (!opts.yes) {
      const n = await q.count(kind);
      // Deleting is not undone: without --yes nothing is deleted, and the count says what would be.
      throw new UsageError(
        `would delete ${what(n)}; nothing deleted: pass --yes to delete them (\`ledgerflow dlq list\` shows them first)`,
        { count: n, kind: kind ?? null },
      );
    }
    const purged = await q.purge(kind);
    io.out(opts.json ? json({ purged, kind: kind ?? null }) : `deleted ${what(purged)}`);
    return EXIT.ok;
  });
}
