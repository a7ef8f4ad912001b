/** What `createWorker` is given, and the Worker it makes (worker.ts). */
import type { NatsConnection } from '@nats-io/nats-core';
import type { CommandRunner, Handlers, HttpRunner } from '../../runtime/index.js';
import type { SecretsProvider } from '../../secrets/index.js';
import type { ClusterSettings, OutcomeMessage, ReleaseMessage, TaskMessage } from '../transport/index.js';

export interface WorkerOptions {
  /** A server URL (credentials may be in it) or a connection to share (@nats-io/transport-node 3.x's `connect`). */
  nats: string | NatsConnection;
  handlers: Handlers;
  queue?: string;
  settings?: ClusterSettings;
  /**
   * Run COMMAND tasks too (their attempts on lf.q.<queue>._command), with this executor
   * (src/handlers/command.ts: `createCommandExecutor({ outputLimit })`). Without it, this worker takes none.
   */
  commands?: CommandRunner;
  /**
   * Run HTTP tasks too (their attempts on lf.q.<queue>._http), with this executor
   * (src/handlers/http.ts: `createHttpExecutor({ allow })`). Without it, this worker takes none.
   */
  http?: HttpRunner;
  /** Attempts of each handler this worker pulls and runs at once (default 4). */
  concurrency?: number;
  /** Its skills (`worker --skills`, docs/limits.md#skills): it also takes attempts of tasks that require some of them. */
  skills?: readonly string[];
  /** Where `output_to` files go: relative paths resolve against it, nothing is written outside it (default: the current directory). */
  outputRoot?: string;
  /**
   * The NATS user this worker connects as, which it names as the sender of what it reports (lf.inputs.<user>.<runId>).
   * Default: the user in the URL, else `anonymous`; with a shared connection, say it here.
   */
  user?: string;
  log?: (line: string) => void;
  /** How long stop() lets the attempts running here finish and report before handing them back (default 10 s). */
  stopGraceMs?: number;
  /**
   * How long a report the hub does not take (a publish unanswered, say) is retried before the worker gives it up,
   * and how often a station's worker whose link is down says it still waits for it (default 60 s). Mostly for
   * tests, which need not spend the minute to see a station's worker keep its outcome past it.
   */
  reportPatienceMs?: number;
  /** How often this worker announces what it serves (default 5 s); the engines take it for gone after three such periods unheard. */
  presenceEveryMs?: number;
  /** Take attempts the engines offer straight to an idle worker (lf.offer), besides pulling them (default true). */
  directOffers?: boolean;
  /** The engines' attempt key (base64url), trusted instead of what KV LF_KEYS says (default: LEDGERFLOW_ATTEMPT_KEY, else LF_KEYS). */
  attemptKey?: string;
  /**
   * Where `${secrets.NAME}` values come from when an attempt starts (src/secrets). Default: KV LF_SECRETS on
   * this worker's connection, then the file LEDGERFLOW_SECRETS_FILE names (if set), then LEDGERFLOW_SECRET_<NAME>.
   */
  secrets?: SecretsProvider;
}

export interface Worker {
  start(): Promise<void>;
  /**
   * Stops taking attempts and lets the running ones finish for `graceMs` (default: the worker's stopGraceMs), then gives
   * back those still running (task.released: not a loss, give-back.ts). `giveBack: false` hands them back unreleased
   * instead, to be found lost as after a crash (what a test of a dying worker stops it with).
   */
  stop(opts?: { graceMs?: number; giveBack?: boolean }): Promise<void>;
  readonly stats: { completed: number; failed: number; lost: number };
  /** How this worker signs the attempts it claims in the attempt ledger: host/pid/random. */
  readonly name: string;
  /** The handlers it runs (COMMAND and HTTP tasks under their handler names, when given those executors). */
  readonly serves: readonly string[];
  /**
   * Runs an attempt its own engine started (`engine --handlers`: cluster/engine/local-attempts.ts) as a taken offer is
   * run (claimed only when needed, heartbeated), the outcome handed to `commit` instead of reported; reported as a
   * remote worker's only if `commit` fails. `keyed`: the engine holds a data key (the attempt comes unsealed).
   */
  runHere(
    task: TaskMessage,
    commit: (outcome: OutcomeMessage | ReleaseMessage) => Promise<void>,
    keyed?: boolean,
  ): Promise<void>;
}
