/**
 * Inputs people published for a run that no engine has taken yet (approvals,
 * signals, run control waiting in their streams), taken by a process about to
 * drive the run itself — `resume --nats` — so a run is never left WAITING
 * with its approval queued just because no engine runs. Each is judged and
 * recorded exactly as an engine would (by = the sender of its subject, proven
 * when the server has users), then removed from its stream; a refused one is
 * removed too, with the reason told (an approval's refusal is kept in the
 * run's history, as an engine keeps it).
 */
import type { JetStreamManager, StoredMsg } from 'nats';
import { LedgerflowError } from '../errors/index.js';
import { Engine } from '../local/index.js';
import type { JetStreamEventStore } from '../store/index.js';
import { ApprovalMessage, ControlMessage, decodeOrUndefined, SignalMessage } from './messages.js';
import { STREAMS, token } from './subjects.js';

/** The next message of `stream` on `subject` (wildcards allowed) from `seq`, or null. */
async function nextOn(jsm: JetStreamManager, stream: string, subject: string, seq: number): Promise<StoredMsg | null> {
  try {
    // MSG.GET's next_by_subj (nats-server 2.9+): the work-queue streams allow no consumer beside the engines' own.
    return await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
  } catch (err) {
    if (/no message found|not found/i.test((err as Error).message)) return null;
    throw err;
  }
}

export async function takeQueuedInputs(store: JetStreamEventStore, runId: string, opts: { proven: boolean; say: (line: string) => void }): Promise<number> {
  token(runId);
  const jsm = await (await store.connection()).jetstreamManager();
  const engine = new Engine({ store });
  const flag = opts.proven ? {} : { unauthenticated: true as const };
  const queues = [
    { stream: STREAMS.approvals.name, subject: `lf.approvals.${runId}.*.*`, sender: (parts: string[]) => parts[4] },
    { stream: STREAMS.signals.name, subject: `lf.signals.*.${runId}`, sender: (parts: string[]) => parts[2] },
    { stream: STREAMS.control.name, subject: `lf.control.*.${runId}`, sender: (parts: string[]) => parts[2] },
  ];
  let taken = 0;
  for (const q of queues) {
    for (let seq = 1; ;) {
      const m = await nextOn(jsm, q.stream, q.subject, seq);
      if (!m) break;
      seq = m.seq + 1;
      const parts = m.subject.split('.');
      const by = q.sender(parts) ?? '';
      const body = decodeOrUndefined(m.data);
      try {
        if (q.stream === STREAMS.approvals.name) {
          const a = ApprovalMessage.parse(body);
          await engine.decide(runId, parts[3]!, a.decision, by, a.comment, flag);
          opts.say(`took the queued ${a.decision === 'approved' ? 'approval' : 'rejection'} of ${parts[3]} by ${by}`);
        } else if (q.stream === STREAMS.signals.name) {
          const sg = SignalMessage.parse(body);
          await engine.signal(runId, sg.name, { ...(sg.data !== undefined ? { data: sg.data } : {}), by, ...flag });
          opts.say(`took the queued signal ${sg.name} from ${by}`);
        } else {
          const c = ControlMessage.parse(body);
          const reason = c.reason !== undefined ? { reason: c.reason } : {};
          if (c.action === 'pause') await engine.pause(runId, { by, ...reason, ...flag });
          else if (c.action === 'cancel') await engine.cancel(runId, { by, ...reason, ...flag });
          else await engine.unpause(runId, { by, ...flag });
          opts.say(`took the queued ${c.action} from ${by}`);
        }
        taken++;
      } catch (err) {
        // Refused (or malformed): as an engine would refuse it; nothing else to do with it here.
        if (!(err instanceof LedgerflowError) && !(err instanceof Error && err.name === 'ZodError')) throw err;
        opts.say(`a queued input on ${m.subject} was refused: ${err.message}`);
      }
      await jsm.streams.deleteMessage(q.stream, m.seq, false);
    }
  }
  return taken;
}
