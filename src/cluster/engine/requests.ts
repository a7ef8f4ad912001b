/**
 * A person's start, retry, deploy, limits or upkeep verb (LF_REQUESTS: lf.starts.<user>, lf.deploys.<user>,
 * lf.limits.<user>, lf.upkeep.<user>, the request id in the body; transport/requests.ts), as an engine takes it:
 *
 * 1. read (parse.ts): a body that is not JSON, not the schema (a field it does not know, a name of its own: the sender
 *    is the subject's, which nats.conf enforces), or too large is dead-lettered, and the sender told;
 * 2. judged by the sender's level from the engine's users file (`engine --users`), as the embedded store judges a
 *    command: a start asks for L1, or L2 for a workflow whose `domain:` is one of the user's `domains:`; a retry, a
 *    deploy, limits and upkeep L1 (upkeep-requests.ts; `archive list` L2). A NATS user the file does not name is a Worker (L3). An
 *    engine without a users file judges no level: nats.conf's permissions are then the only boundary, as for
 *    approvals and control;
 * 3. done as the engine user, as `start`, `retry` and `deploy` do it with the engine's credentials (RunCommits, the
 *    registry), run.started recording who asked (`source.by`); the engines are kicked to drive it. A request taken
 *    again finds its run and is answered "existing"; a run under its id that it did not start (another person's,
 *    another workflow's) is refused, LF_RUN_ID_TAKEN, and not kicked (request-owner.ts).
 *
 * A refusal (its level, a workflow not deployed, an input or definition that does not validate, a run that cannot be
 * retried) records nothing, is told to the sender in the embedded store's words and code, and kept as a dead letter (a
 * few a minute per sender). Anything else (the store unavailable) is retried by the inbox, and dead-lettered at its
 * bound: nothing loops.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { atLeast, judge, type Action, type ActionContext, type Actor } from '../../authority/index.js';
import { parseDefinition, parseLimits, type Definition } from '../../definition/index.js';
import { formatDiagnostic, LedgerflowError, type Diagnostic } from '../../errors/index.js';
import { SETTLED_STATUSES, type WorkflowStatus } from '../../events/index.js';
import { RunCommits, newRunId } from '../../executor/index.js';
import { writeLimits } from '../../limits/index.js';
import type { JetStreamEventStore } from '../../store/index.js';
import {
  maxOutputBytes,
  parseInbound,
  purgeUploads,
  takeUploads,
  rawOf,
  STREAMS,
  subjects,
  type DefinitionRegistry,
  type DeployVerdict,
  type Inbound,
  type LimitsVerdict,
  type StartVerdict,
} from '../transport/index.js';
import type { Inbox } from './inbox.js';
import { LetterRate } from './letter-rate.js';
import { trimOldest } from '../../bounded.js';
import { kickRun } from './admissions.js';
import { ownExisting } from './request-owner.js';
import { doUpkeep, type UpkeepOptions } from './upkeep-requests.js';

export interface RequestsOptions {
  store: JetStreamEventStore;
  js: JetStreamClient;
  jsm: JetStreamManager;
  registry: DefinitionRegistry;
  inbox: Inbox;
  stats: { starts: number; deploys: number; limits: number; refused: number };
  /** Whether the server proves who publishes (it has users): else the sender's name is a claim, not recorded as who asked. */
  sendersProven: () => boolean;
  /** Who a sender is, from the engine's users file; undefined: the engine judges no level (it has no users file). */
  actorOf?: (user: string) => Actor;
  /** The server's max_payload (the connection's INFO): what bounds a start's input. */
  maxPayload?: number;
  now: () => number;
  log: (line: string) => void;
}

type Kind = 'start' | 'deploy' | 'limits' | 'upkeep';

/** The request id a client writes first in a request's body (client/requests.ts), read without parsing the rest. */
const LEADING_REQUEST = /^\{"request":"([A-Za-z0-9_-]{8,64})"/;
/** Where each kind's dead letters go (lf.dlq.<kind>) and its verdict. */
const LETTER_KIND: Record<Kind, string> = { start: 'starts', deploy: 'deploys', limits: 'limits', upkeep: 'upkeep' };
const VERDICT_SUBJECT: Record<Kind, (sender: string, request: string) => string> = {
  start: subjects.startVerdict,
  deploy: subjects.deployVerdict,
  limits: subjects.limitsVerdict,
  upkeep: subjects.upkeepVerdict,
};

/** How often, and after how long, a start of a workflow not deployed is looked at again while deploy requests wait. */
const DEPLOY_WAITS = 5;
const DEPLOY_WAIT_MS = 1000;

/** `<workflowId>` or `<workflowId>@<version>`, as the registry keys them (wf.<workflowId>.<version>). */
const WORKFLOW_REF = /^[A-Za-z0-9_-]+(@[1-9]\d{0,8})?$/;

/** Refusals kept as dead letters per sender and minute; the rest are answered and counted only. */
const REFUSAL_LETTERS_PER_MINUTE = 10;

/** A refusal said to the sender: the embedded store's code and words. */
class Refused extends Error {
  constructor(readonly verdict: { reason: string; code: string; need?: string; have?: string }) {
    super(verdict.reason);
  }
}

/** Kinds of LedgerflowError that are the request's fault (answered, never retried); the rest may pass (the store, the network). */
const TRANSIENT = new Set(['unavailable', 'contended', 'failure']);

/** Runs being started for requests remembered at most (Requests.starting): a start that failed leaves its entry, the oldest forgotten first. */
const STARTING_KEPT = 1024;

export class Requests {
  private readonly letters: LetterRate;
  /** Archive, restore, blob gc and keys rotate (upkeep-requests.ts), judged as the others are. */
  private readonly upkeep: UpkeepOptions;

  /** Runs a request is starting now: the store keeps their first commits, which their kicks carry (started()). */
  private readonly starting = new Map<string, true>();

  constructor(private readonly o: RequestsOptions) {
    this.letters = new LetterRate(REFUSAL_LETTERS_PER_MINUTE, 'refused start and deploy requests', o);
    this.upkeep = { store: o.store, judge: (sender, action) => this.judge(sender, action), now: o.now, log: o.log };
    o.store.handedCommits.offer((runId) => this.starting.has(runId));
  }

  /** `runId` is about to be started for a request: its first commit is kept for its kick (a start that fails leaves it, bounded). */
  private willStart(runId: string): void {
    this.starting.set(runId, true);
    trimOldest(this.starting, STARTING_KEPT);
  }

  /** One message of LF_REQUESTS: a start (or retry), a deploy, limits or an upkeep verb; acked once answered. */
  async take(m: JsMsg): Promise<void> {
    const kind: Kind = m.subject.startsWith('lf.deploys.')
      ? 'deploy'
      : m.subject.startsWith('lf.limits.')
        ? 'limits'
        : m.subject.startsWith('lf.upkeep.')
          ? 'upkeep'
          : 'start';
    const letterKind = LETTER_KIND[kind];
    // A start's input goes into run.started beside its definition: one over half the server's max_payload could never be recorded.
    const limit = maxOutputBytes(this.o.maxPayload);
    const parsed =
      kind === 'start' && m.data.length > limit
        ? {
            ok: false as const,
            reason: `malformed start request on ${m.subject.slice(0, 300)}: ${m.data.length} bytes, over the ${limit} a start may carry on this NATS server (half its max_payload); pass a reference (a path, a key, a URL) in the input instead`,
            details: {},
            misdirected: false,
          }
        : parseInbound(kind, rawOf(m));
    if (!parsed.ok) {
      // Told to the sender when the subject names one and a request id, in the subject (as requests were published
      // before) or first in the body as clients write it (read from its first bytes: the body is what was wrong).
      const [, , sender, legacy] = m.subject.split('.');
      const request = legacy ?? LEADING_REQUEST.exec(new TextDecoder().decode(m.data.subarray(0, 100)))?.[1];
      const to = sender && request ? safe(() => VERDICT_SUBJECT[kind](sender, request)) : null;
      this.o.inbox.tell(to, { accepted: false, reason: parsed.reason, code: 'LF_REQUEST_REFUSED' });
      this.o.stats.refused++;
      // Kept as a dead letter, a few a minute per sender: a person publishing junk as fast as the server takes it must not push out other letters.
      if (this.letters.allow(sender ?? '')) return this.o.inbox.dropMalformed(letterKind, m, parsed);
      m.ack();
      return;
    }
    const value = parsed.value;
    try {
      const verdict =
        kind === 'start'
          ? await this.start(value as Inbound['start'])
          : kind === 'deploy'
            ? await this.deploy(value as Inbound['deploy'])
            : kind === 'limits'
              ? await this.limits(value as Inbound['limits'])
              : await doUpkeep(this.upkeep, value as Inbound['upkeep']);
      this.o.inbox.tell(value.verdictTo, verdict);
      if (kind === 'start') await purgeUploads(this.o.jsm, value.sender, value.request);
    } catch (err) {
      const refusal = err instanceof Refused ? err.verdict : refusalOf(err);
      if (!refusal) throw err; // the inbox tries it again later, and dead-letters it at its bound
      // A start of a workflow not deployed while deploys wait beside it (`deploy` then `start`, both queued for the
      // next engine, which takes them at once): looked at again after them, a few times, before it is refused.
      if (
        refusal.code === 'LF_WORKFLOW_NOT_DEPLOYED' &&
        m.info.deliveryCount < DEPLOY_WAITS &&
        (await this.deploysWaiting())
      ) {
        m.nak(DEPLOY_WAIT_MS);
        return;
      }
      this.o.stats.refused++;
      this.o.log(`refused ${kind} request ${value.request} from ${value.sender}: ${refusal.reason}`);
      if (this.letters.allow(value.sender))
        await this.o.inbox.deadLetter(
          letterKind,
          `${kind} request ${value.request} from ${value.sender}: ${refusal.reason}`,
          m,
          { by: value.sender },
        );
      this.o.inbox.tell(value.verdictTo, { accepted: false, ...refusal });
      if (kind === 'start') await purgeUploads(this.o.jsm, value.sender, value.request);
    }
    m.ack();
  }

  /** Whether deploy requests wait in LF_REQUESTS (taken or not): false when that cannot be read. */
  private async deploysWaiting(): Promise<boolean> {
    const info = await this.o.jsm.streams
      .info(STREAMS.requests.name, { subjects_filter: 'lf.deploys.>' })
      .catch(() => null);
    return Object.keys(info?.state.subjects ?? {}).length > 0;
  }

  /** Refuses what the sender's level does not allow (nothing when the engine has no users file). */
  private judge(sender: string, action: Action, ctx: ActionContext = {}): void {
    const actor = this.o.actorOf?.(sender);
    if (!actor) return;
    const v = judge(actor, action, ctx);
    if (!v.allowed) throw new Refused({ reason: v.reason, code: 'LF_AUTHORITY_REFUSED', need: v.need, have: v.have });
  }

  private async start({ sender, body: sent }: Inbound['start']): Promise<StartVerdict> {
    const commits = new RunCommits({ store: this.o.store });
    const by: { by?: string } = this.o.sendersProven() ? { by: sender } : {};
    if ('retryOf' in sent) {
      this.judge(sender, 'control');
      // A reference in a fork's input is refused: the request uploaded none (transport/uploads.ts).
      const body = sent.fork?.input
        ? { ...sent, fork: { ...sent.fork, input: await takeUploads(this.o.jsm, sender, undefined, sent.fork.input) } }
        : sent;
      // Taken twice (an engine that died after the start): the retry is there. A run under the id that is not
      // this sender's retry of this run is refused, untouched (request-owner.ts).
      const { fork } = body;
      const own = fork
        ? { by: by.by, forkOf: body.retryOf, what: 'fork request' }
        : { by: by.by, retryOf: body.retryOf, what: 'retry request' };
      let existing = await ownExisting(this.o.store, body.runId, own);
      if (!existing) {
        this.willStart(body.runId);
        try {
          const forking = fork && {
            fork: {
              at: fork.at,
              by: sender,
              ...(fork.input ? { input: fork.input } : {}),
              ...(fork.inputFromStrings ? { inputFromStrings: true } : {}),
              ...(fork.definition ? { definition: await this.o.registry.resolve(fork.definition) } : {}),
            },
          };
          await commits.beginRetry(body.retryOf, { runId: body.runId, ...by, ...forking }, false);
        } catch (err) {
          // Anything but a run written under the id meanwhile is the retry's refusal.
          if (!((await this.o.store.lastSeq(body.runId)) > 0)) throw err;
          existing = await ownExisting(this.o.store, body.runId, own);
        }
      }
      return this.started(commits, body.runId, existing, sender);
    }
    // A Worker may start nothing: refused before the registry is read (a Station OPS's domain needs the definition).
    const actor = this.o.actorOf?.(sender);
    if (actor && !atLeast(actor.level, 'L2')) this.judge(sender, 'start', { workflowId: sent.workflow });
    // A reference no registry key can carry is the sender's mistake, said as such (not the store's, tried again).
    if (!WORKFLOW_REF.test(sent.workflow))
      throw new Refused({
        reason: `workflow ${sent.workflow.slice(0, 200)} is not deployed: a workflow is named <workflowId> or <workflowId>@<version> (letters, digits, _ and -)`,
        code: 'LF_WORKFLOW_NOT_DEPLOYED',
      });
    const definition: Definition = await this.o.registry.resolve(sent.workflow);
    this.judge(sender, 'start', {
      workflowId: definition.id,
      ...(definition.domain !== undefined ? { domain: definition.domain } : {}),
    });
    // Fields too large for the request were uploaded by it: read back from its own uploads, digests checked; a
    // reference to any other body (another run's) is refused, never read (transport/uploads.ts).
    const body = { ...sent, input: await takeUploads(this.o.jsm, sender, sent.request, sent.input) };
    const opts = {
      inputFromStrings: body.inputFromStrings ?? false,
      ...(body.priority !== undefined ? { priority: body.priority } : {}),
      ...(this.o.sendersProven() ? { source: { by: sender } } : {}),
    };
    if (body.id !== undefined) {
      this.willStart(body.id);
      const started = await commits.startRun(definition, body.input, {
        ...opts,
        runId: body.id,
        ...(body.idReuse ? { idReuse: body.idReuse } : {}),
      });
      // The id's run returned only to whoever started it (the same request, or the same person again): another's is refused.
      if (started.existing)
        await ownExisting(this.o.store, started.runId, { workflowId: definition.id, by: by.by, what: 'start request' });
      return this.started(commits, started.runId, started.existing, sender, definition);
    }
    const runId = body.runId ?? newRunId(this.o.now());
    // Exactly this id, once: a request taken again (its engine died after the start) starts nothing more; a run
    // under the id that this request did not start (another person's, another workflow's) is refused, untouched.
    const existing = await ownExisting(this.o.store, runId, {
      workflowId: definition.id,
      by: by.by,
      what: 'start request',
    });
    if (!existing) {
      this.willStart(runId);
      await commits.start(definition, body.input, { ...opts, runId });
    }
    return this.started(commits, runId, existing, sender, definition);
  }

  /** The engines woken about the run (and the runs its start admitted); the verdict with its status. */
  private async started(
    commits: RunCommits,
    runId: string,
    existing: boolean,
    sender: string,
    definition?: Definition,
  ): Promise<StartVerdict> {
    const view = await commits.status(runId);
    // The start's commit, kept by the store (willStart), is carried by its kick: the engine taking it reads nothing.
    const first = this.starting.delete(runId) ? this.o.store.handedCommits.takeWritten(runId) : undefined;
    if (!SETTLED_STATUSES.includes(view.status))
      await kickRun(this.o.js, runId, existing ? undefined : `${runId}/kick`, !existing, first);
    for (const admitted of await commits.takeAdmitted()) await kickRun(this.o.js, admitted, `${admitted}/admitted`);
    this.o.stats.starts++;
    const status: WorkflowStatus = view.status;
    this.o.log(
      `run ${runId} (${view.workflowId}) ${existing ? 'existed already' : 'started'} for ${sender}${view.retryOf ? ` (a retry of run ${view.retryOf.runId})` : ''}`,
    );
    // An existing run is answered as it is (its version may be older than the one the request resolved to).
    const of =
      existing || !definition
        ? { workflowId: view.workflowId, version: view.version }
        : { workflowId: definition.id, version: definition.version };
    return { accepted: true, runId, ...of, status, ...(existing ? { existing: true as const } : {}) };
  }

  private async deploy({ sender, body }: Inbound['deploy']): Promise<DeployVerdict> {
    this.judge(sender, 'deploy');
    // Parsed and checked here as a file is (the sender's copy is not trusted): every problem at its line:col.
    const parsed = parseDefinition(body.text, body.file);
    if (!parsed.definition) throw invalid(body.file ?? 'the definition', parsed.diagnostics, 'LF_DEFINITION_INVALID');
    const r = await this.o.registry.deploy(parsed.definition, body.text);
    this.o.stats.deploys++;
    this.o.log(`${r.changed ? 'deployed' : 'unchanged'} ${r.workflowId}@${r.version} for ${sender}`);
    return { accepted: true, ...r };
  }

  private async limits({ sender, body }: Inbound['limits']): Promise<LimitsVerdict> {
    this.judge(sender, 'limits');
    // Parsed and checked here as `limits set` checks the file: every problem at its line:col.
    const parsed = parseLimits(body.text, body.file);
    if (!parsed.limits) throw invalid(body.file ?? 'the limits', parsed.diagnostics, 'LF_LIMITS_INVALID');
    await writeLimits(this.o.store, parsed.limits);
    this.o.stats.limits++;
    this.o.log(`stored the limits of ${body.file ?? 'a limits file'} for ${sender}`);
    return { accepted: true, limits: parsed.limits as unknown as Record<string, unknown> };
  }
}

/** A file the sender sent that does not parse: every error at its line:col (the first 50). */
function invalid(what: string, diagnostics: readonly Diagnostic[], code: string): Refused {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  return new Refused({
    reason: `${what} is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors.slice(0, 50).map(formatDiagnostic).join('\n')}`,
    code,
  });
}

/** The refusal a LedgerflowError of the request's own making is; null for one that may pass (try again). */
function refusalOf(err: unknown): { reason: string; code: string } | null {
  if (!(err instanceof LedgerflowError) || TRANSIENT.has(err.kind)) return null;
  return { reason: err.message, code: err.code };
}

function safe(make: () => string): string | null {
  try {
    return make();
  } catch {
    return null;
  }
}
