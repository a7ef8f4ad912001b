/**
 * Inputs people published for a run that no engine has taken yet (approvals, signals, run control waiting in their
 * streams), taken by a process about to drive the run itself — `resume --nats` — so a run is never left WAITING with
 * its approval queued just because no engine runs. Each is judged and recorded exactly as an engine would (by = the
 * sender of its subject, proven when the server has users), then removed from its stream; a refused one is removed too,
 * with the reason told (an approval's refusal is kept in the run's history, as an engine keeps it).
 */
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { LedgerflowError, errorMessage } from '../../errors/index.js';
import { RunCommits } from '../../executor/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import { parseInbound, personInput, rawOf, STREAMS, token, type Inbound } from '../transport/index.js';
import { jetstreamManager } from '../../store/index.js';

/** The next message of `stream` on `subject` (wildcards allowed) from `seq`, or null. */
async function nextOn(jsm: JetStreamManager, stream: string, subject: string, seq: number): Promise<StoredMsg | null> {
  try {
    // MSG.GET's next_by_subj (nats-server 2.9+): the work-queue streams allow no consumer beside the engines' own.
    return await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
  } catch (err) {
    if (/no message found|not found/i.test(errorMessage(err))) return null;
    throw err;
  }
}

type PersonInput = 'approval' | 'signal' | 'control';

export async function takeQueuedInputs(
  store: JetStreamEventStore,
  runId: string,
  opts: { proven: boolean; say: (line: string) => void },
): Promise<void> {
  token(runId);
  const jsm = await jetstreamManager(await store.connection());
  const engine = new RunCommits({ store });
  const flag = opts.proven ? {} : { unauthenticated: true as const };
  const queues = [
    { kind: 'approval', stream: STREAMS.approvals.name, subject: `lf.approvals.${runId}.*.*` },
    { kind: 'signal', stream: STREAMS.signals.name, subject: `lf.signals.*.${runId}` },
    { kind: 'control', stream: STREAMS.control.name, subject: `lf.control.*.${runId}` },
  ] as const;
  /** What to say of each kind once judged and recorded as an engine would (a refusal throws). */
  const said: { [K in PersonInput]: (input: Inbound[K]) => string } = {
    approval: (a) => `${a.decision === 'approved' ? 'approval' : 'rejection'} of ${a.taskId} by ${a.user}`,
    signal: (sg) => `signal ${sg.name} from ${sg.sender}`,
    control: (c) => `${c.action} from ${c.sender}`,
  };
  /** Taken, or a malformed one refused with the reason an engine would dead-letter it with. */
  const take = async <K extends PersonInput>(kind: K, m: StoredMsg): Promise<void> => {
    const read = parseInbound(kind, rawOf(m));
    if (!read.ok) return opts.say(`a queued input on ${m.subject} was refused: ${read.reason}`);
    const { input, by } = personInput(read.value);
    await engine.input(runId, input, { by, ...flag });
    opts.say(`took the queued ${said[kind](read.value)}`);
  };
  for (const q of queues) {
    for (let seq = 1; ; ) {
      const m = await nextOn(jsm, q.stream, q.subject, seq);
      if (!m) break;
      seq = m.seq + 1;
      try {
        await take(q.kind, m);
      } catch (err) {
        // Refused: as an engine would refuse it; nothing else to do with it here.
        if (!(err instanceof LedgerflowError)) throw err;
        opts.say(`a queued input on ${m.subject} was refused: ${err.message}`);
      }
      await jsm.streams.deleteMessage(q.stream, m.seq, false);
    }
  }
}
