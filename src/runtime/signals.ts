/**
 * The one signal rule, used by every path that takes a signal (the library and CLI on any store, NATS engines): pure,
 * so a signal is judged the same everywhere. A signal is taken when some WAIT on its name would take it (one waiting
 * completes, one not yet reached keeps it); otherwise it is refused with the reason, and nothing is recorded: unlike a
 * refused approval there is no decision to audit, only a message nobody was waiting for.
 */
import { atLeast, levelText, type Level } from '../authority/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { maySignal, type WaitTask } from '../definition/index.js';
import { HELD_REASON, isHeld } from '../compiler/index.js';
import { nestsDeeperThan, tooDeepText, type EventData, type PendingEvent } from '../events/index.js';
import { applyEvent, runStatus, type RunSnapshot } from './fold.js';

export interface SignalRequest {
  name: string;
  data?: unknown;
  /** Who sent it: the NATS user, or the name given with `--as`. */
  by?: string;
  /** The name is given, not proven by a server: recorded as such. */
  unauthenticated?: boolean;
  /** The sender's level, where a users file says it: then a WAIT without `from:` takes its signal only from the run's starter and L1 or higher. */
  level?: Level;
  /** Who started the run (its run.started's `source.by`, recorded where a users file or a NATS server proved it); undefined: not recorded. */
  starter?: string;
  /** ISO time the signal is recorded at. */
  time: string;
}

/** Who a WAIT without `from:` takes its signal from where a users file says who is who: the run's starter, and L1 (CMD.BRIDGE) or higher. */
export const DEFAULT_SIGNALER_LEVEL: Level = 'L1';

/**
 * Whether `req`'s sender may send WAIT `t` its signal: one of its `from:`; or, for a WAIT that names none, anyone
 * where no users file says who is who (as before), else the run's starter and L1 or higher. The fold keeps to
 * `from:` alone (maySignal): it cannot know a level, so this is judged here, before anything is recorded.
 */
function mayTake(t: WaitTask, req: SignalRequest): boolean {
  if (t.signalers !== undefined && t.signalers.length > 0) return maySignal(t, req.by);
  if (req.level === undefined) return true;
  return (
    atLeast(req.level, DEFAULT_SIGNALER_LEVEL) ||
    (req.by !== undefined && req.starter !== undefined && req.by === req.starter)
  );
}

type SignalReview =
  | { accepted: true; event: Extract<PendingEvent, { type: 'signal.received' }>; snapshot: RunSnapshot }
  | { accepted: false; reason: string };

function signalEvent(req: SignalRequest): Extract<PendingEvent, { type: 'signal.received' }> {
  const data = {
    name: req.name,
    ...(req.data !== undefined ? { data: req.data } : {}),
    ...(req.by !== undefined ? { by: req.by } : {}),
    ...(req.unauthenticated ? { unauthenticated: true as const } : {}),
  } satisfies EventData<'signal.received'>;
  return { type: 'signal.received', time: req.time, data };
}

/** Judges a signal against the run's recorded definition and its state now. */
export function reviewSignal(compiled: CompiledWorkflow, snapshot: RunSnapshot, req: SignalRequest): SignalReview {
  // Before anything prints or records it (events/json-depth.ts).
  if (nestsDeeperThan(req.data)) return { accepted: false, reason: tooDeepText(`the data of signal "${req.name}"`) };
  const event = signalEvent(req);
  const waits = compiled.definition.tasks.filter((t) => t.type === 'WAIT' && t.event === req.name).map((t) => t.id);
  if (waits.length === 0) {
    const names = [
      ...new Set(
        compiled.definition.tasks.flatMap((t) => (t.type === 'WAIT' && t.event !== undefined ? [t.event] : [])),
      ),
    ];
    return {
      accepted: false,
      reason: `the run has no WAIT for signal "${req.name}"; ${names.length > 0 ? `it waits for ${names.map((n) => `"${n}"`).join(', ')}` : 'it waits for no signal'}`,
    };
  }
  if (snapshot.status !== 'active') return { accepted: false, reason: `the run is already ${runStatus(snapshot)}` };
  const allowed = compiled.definition.tasks.filter((t): t is WaitTask => t.type === 'WAIT' && t.event === req.name);
  if (!allowed.some((t) => mayTake(t, req))) {
    const from = [...new Set(allowed.flatMap((t) => t.signalers ?? []))];
    const open = allowed.some((t) => !t.signalers?.length);
    // Said without the starter's name: the sender learns only what would let them send it.
    const whom = [
      ...(from.length > 0 ? [from.join(', ')] : []),
      ...(open
        ? [
            `the person who started the run and ${levelText(DEFAULT_SIGNALER_LEVEL)} or higher (a WAIT without from:, where a users file says who is who)`,
          ]
        : []),
    ].join('; or ');
    const have = open && req.level !== undefined ? ` (${req.by ?? 'the sender'} is ${levelText(req.level)})` : '';
    return {
      accepted: false,
      reason: `${req.by === undefined ? 'a sender who gives no name' : req.by} may not send signal "${req.name}": ${allowed.length === 1 ? `WAIT ${allowed[0]!.id} takes it` : `its WAITs take it`} only from ${whom}${have}`,
    };
  }
  if (isHeld(snapshot.context)) return { accepted: false, reason: HELD_REASON };
  // A WAIT whose from: would let the fold give it this signal though the users file's default does not: the
  // event names the WAITs that may take it (absent otherwise, as in every history before).
  const takers = allowed.filter((t) => mayTake(t, req)).map((t) => t.id);
  if (allowed.some((t) => maySignal(t, req.by) && !takers.includes(t.id)))
    event.data = { ...event.data, waits: takers };
  const r = applyEvent(compiled, snapshot, event);
  if (r.accepted) return { accepted: true, event, snapshot: r.snapshot };
  const states = waits.map((id) => {
    const t = snapshot.context.tasks[id]!;
    return `${id} is ${t.status}${t.signal !== undefined ? ' and already keeps one' : ''}`;
  });
  return { accepted: false, reason: `no WAIT for signal "${req.name}" takes it now: ${states.join(', ')}` };
}
