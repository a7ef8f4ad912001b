/** Which stream each of an engine's consumers takes and where its messages go (engine.ts makes the parts wired here). */
import type { NatsConnection } from '@nats-io/nats-core';
import { openOutcome, ringOf } from '../../encryption/index.js';
import { errorMessage } from '../../errors/index.js';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { JetStreamEventStore } from '../../store/index.js';
import {
  ENGINE_CONSUMERS,
  STREAMS,
  type AttemptTokens,
  type ClusterSettings,
  type InHand,
} from '../transport/index.js';
import { serveDirectReports } from './direct-reports.js';
import { DirectDispatch } from './direct-dispatch.js';
import type { EngineStats } from './engine-stats.js';
import { takeGateWait, type skilledBy } from './gate-waits.js';
import type { Inbox, Lifecycle } from './inbox.js';
import { takeInput, type InputHost } from './inputs.js';
import { LetterRate } from './letter-rate.js';
import type { Routes } from './routes.js';
import type { RunHost } from './run-host.js';
import type { TriggerEvents } from './trigger-events.js';

/** Dead letters of one sender's refused reports a minute: an honest worker has none; a forger's flood must not push out the engines' letters. */
const REFUSED_REPORT_LETTERS_PER_MINUTE = 20;

/** The parts of an engine its consumers hand messages to. */
export interface EngineConsumers {
  nc: NatsConnection;
  js: JetStreamClient;
  store: JetStreamEventStore;
  tokens: AttemptTokens;
  host: RunHost;
  inbox: Inbox;
  routes: Routes;
  triggers: TriggerEvents;
  direct: DirectDispatch | null;
  engineName: string;
  inHand: InHand;
  life: Lifecycle;
  stats: EngineStats;
  now: () => number;
  log: (line: string) => void;
  settings: ClusterSettings | undefined;
  skilled: ReturnType<typeof skilledBy>;
  sendersProven: () => boolean;
  /** The NATS user this engine connects as: the one user, besides anyone on a server without users, that writes the log. */
  ownSender: string;
}

/**
 * Starts the engine's consumers of inputs, timers, approvals, triggers, signals and control; returns what closes its own
 * reports' subscription, and the input path's host (what attempts run in the engine commit their outcomes through).
 */
export function takeEngineMessages(o: EngineConsumers): { closeOwnReports: () => void; inputs: InputHost } {
  const { nc, js, store, tokens, host, inbox, routes, triggers, direct, engineName, inHand, life, stats, now, log } = o;
  const { settings, skilled } = o;
  // A worker's refused reports (forged, of another queue's attempt, malformed) cost a few dead letters a minute, not one each.
  const reportLetters = new LetterRate(REFUSED_REPORT_LETTERS_PER_MINUTE, 'refused reports', { now, log });
  const inputs: InputHost = {
    tokens,
    stats,
    sendersProven: o.sendersProven,
    now,
    log,
    letterAllowed: (sender) => reportLetters.allow(sender),
    runs: host,
    inbox,
    // Longer than an engine holds an input: the outcome it waits for may be with an engine that died.
    finishedRecheckMs: (settings?.engineAckWaitMs ?? 10_000) + 2000,
    // After the commit's effects are handed on (the next attempt offered under this run's custody, kept meanwhile).
    ...(direct ? { reported: (e) => direct.reported(e) } : {}),
    // Only the run given back: the restart the same commit offered stays in custody.
    ...(direct ? { givenBack: (e) => direct.done(e.runId, DirectDispatch.keyOf(e)) } : {}),
    openReport: (input) => {
      const ring = ringOf(store);
      return ring ? openOutcome(input, ring) : Promise.resolve(input);
    },
    // A commit handed over is as trusted as its sender's own appends: taken only from who may write the log.
    handFirstCommit: (sender, runId, first) => {
      if (o.sendersProven() && sender !== o.ownSender) return null;
      try {
        store.handedCommits.give(runId, first);
        return () => store.handedCommits.drop(runId);
      } catch (err) {
        log(
          `run ${runId}: the start's kick carried a commit this engine does not take, so it reads the run: ${errorMessage(err)}`,
        );
        return null;
      }
    },
  };
  inbox.consume(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, 'inputs', (m, custody) => takeInput(inputs, m, custody));
  const closeOwnReports = serveDirectReports({
    nc,
    host: inputs,
    inHand,
    life,
    stats,
    direct: direct ? { dispatch: direct, engine: engineName } : null,
  });
  // A timer checks its delivery bound itself, once due: the puts-back of a timer not due yet are deliveries too.
  // Waits of gated tasks share the timers' stream (gate-waits.ts): put back until their gate lets them start.
  inbox.consume(
    STREAMS.timers.name,
    ENGINE_CONSUMERS.timers,
    'timers',
    (m, custody) =>
      m.subject.endsWith('.gate')
        ? takeGateWait({ js, store, host, now, log, skilled }, m, custody)
        : routes.timer(m, custody),
    { boundFirst: false },
  );
  inbox.consume(STREAMS.approvals.name, ENGINE_CONSUMERS.approvals, 'approvals', (m, custody) =>
    routes.input('approval', m, custody),
  );
  inbox.consume(STREAMS.triggers.name, ENGINE_CONSUMERS.triggers, 'triggers', (m, custody) =>
    triggers.take(m, custody),
  );
  inbox.consume(STREAMS.signals.name, ENGINE_CONSUMERS.signals, 'signals', (m, custody) =>
    routes.input('signal', m, custody),
  );
  inbox.consume(STREAMS.control.name, ENGINE_CONSUMERS.control, 'control', (m, custody) =>
    routes.input('control', m, custody),
  );
  return { closeOwnReports, inputs };
}
