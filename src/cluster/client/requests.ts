/**
 * A person's start, retry, deploy, `limits set` or upkeep verb (archive, restore, blob gc, keys rotate) over NATS
 * (docs/users.md#on-nats): a connection that may not write the log itself publishes a request on
 * lf.starts|deploys|limits|upkeep.<user>, after listening for the engine's verdict on
 * lf.verdicts.<kind>.<user>.<request>. An engine judges the sender's level and does it (engine/requests.ts). One no
 * engine answers in time waits in LF_REQUESTS: the command says it is queued (a start names the run it will be).
 */
import {
  ERROR_CODES,
  errorMessage,
  LedgerflowError,
  permissionDenied,
  StoreError,
  type ErrorCode,
  type ErrorOptions,
  type JsonSafe,
} from '../../errors/index.js';
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_INLINE_LIMIT } from '../../definition/index.js';
import { newRunId, randomHex } from '../../executor/index.js';
import { jetstream } from '../../store/index.js';
import { uploadLargeFields } from '../transport/index.js';
import {
  DeployVerdict,
  encode,
  LimitsVerdict,
  senderOf,
  StartVerdict,
  subjects,
  type DeployRequest,
  type LimitsRequest,
  type StartRequest,
  type UpkeepRequest,
  UpkeepVerdict,
} from '../transport/index.js';
import { publishAsUser, refusal } from './user-publish.js';

/** What became of a request: the engine's verdict (accepted), or none in time (`queued`). */
export type RequestOutcome<V> = { queued: false; verdict: V } | { queued: true; request: string };

/** The error a refused verdict is: its code (a known one, else LF_REQUEST_REFUSED) and the engine's reason, both levels in the meta. */
function refused(
  v: { reason?: string | undefined; code?: string | undefined; need?: string | undefined; have?: string | undefined },
  meta: Record<string, JsonSafe | undefined>,
): LedgerflowError {
  const code = (v.code !== undefined && v.code in ERROR_CODES ? v.code : 'LF_REQUEST_REFUSED') as ErrorCode;
  return new LedgerflowError(code, v.reason ?? 'refused by the engine', {
    ...meta,
    ...(v.need ? { need: v.need } : {}),
    ...(v.have ? { have: v.have } : {}),
  });
}

/** A publish nats.conf refused is the level's refusal (exit 2, naming the subject); any other failure, the store's. */
function publishError(
  message: string,
  meta: Record<string, JsonSafe | undefined>,
  options?: ErrorOptions,
): LedgerflowError {
  return options?.kind === 'permission'
    ? new LedgerflowError('LF_AUTHORITY_REFUSED', message, meta, options)
    : new StoreError(message, meta, options);
}

const NO_STREAM =
  'no stream takes start, deploy and limits requests on this NATS server yet: engines of this version create LF_REQUESTS when they start (an older engine cannot take them)';

/** What the kinds of request differ by: their subjects, the verdict's shape and what a refusal says. */
const KINDS = {
  start: { subject: subjects.start, verdictSubject: subjects.startVerdict, schema: StartVerdict },
  deploy: { subject: subjects.deploy, verdictSubject: subjects.deployVerdict, schema: DeployVerdict },
  limits: { subject: subjects.limits, verdictSubject: subjects.limitsVerdict, schema: LimitsVerdict },
  upkeep: { subject: subjects.upkeep, verdictSubject: subjects.upkeepVerdict, schema: UpkeepVerdict },
} as const;
type Verdicts = { start: StartVerdict; deploy: DeployVerdict; limits: LimitsVerdict; upkeep: UpkeepVerdict };

/**
 * Publishes `body` under a fresh request id as the URL's user and waits up to `waitMs` for the engines' verdict: a
 * refused one throws (`meta` and, for the verdict, `refusedMeta`), none in time is `queued`.
 */
async function ask<K extends keyof typeof KINDS>(
  kind: K,
  url: string,
  body: object | ((nc: NatsConnection, sender: string, request: string) => Promise<object>),
  waitMs: number,
  words: (sender: string) => { forbidden: string; failed: string },
  meta: (sender: string) => Record<string, JsonSafe | undefined>,
  refusedMeta = meta,
): Promise<RequestOutcome<Verdicts[K]>> {
  const k = KINDS[kind];
  const sender = senderOf(url);
  const request = randomHex(12);
  const verdict = (await publishAsUser({
    url,
    connectionName: `ledgerflow-${kind}`,
    as: sender,
    subject: () => k.subject(sender),
    // The request's id first: an engine answers even a body it cannot read (engine/requests.ts).
    body:
      typeof body === 'function'
        ? async (nc) => encode({ request, ...(await body(nc, sender, request)) })
        : encode({ request, ...body }),
    verdict: { subject: () => k.verdictSubject(sender, request), schema: k.schema, waitMs },
    refused: refusal(publishError, { ...words(sender), noStream: NO_STREAM }, meta(sender)),
  })) as Verdicts[K] | null;
  if (!verdict) return { queued: true, request };
  if (!verdict.accepted) throw refused(verdict, refusedMeta(sender));
  return { queued: false, verdict };
}

/**
 * A start (or, with `retryOf`, a retry) asked of the engines as the URL's user. Fresh starts and retries carry
 * the new run's id, so that the caller can name it even when queued. Refusals throw, in the embedded store's words.
 */
export function requestStart(url: string, body: StartRequest, waitMs: number): Promise<RequestOutcome<StartVerdict>> {
  // An input too large for one message has its largest fields uploaded first (transport/uploads.ts), as references in it.
  const made =
    'input' in body
      ? async (nc: NatsConnection, sender: string, request: string) => ({
          ...body,
          input: await uploadFields(nc, sender, request, body.input),
        })
      : body;
  return ask(
    'start',
    url,
    made,
    waitMs,
    (sender) => ({
      forbidden: `NATS user ${sender} may not ${'retryOf' in body ? 'retry' : 'start'} runs (nats.conf permissions: it may publish on lf.starts.${sender} only if its block says so (a block written before requests had a subject per sender says lf.starts.${sender}.*: regenerate it); \`ledgerflow users nats-conf\` gives it to L0, L1 and L2)`,
      failed: `could not publish the request to ${'retryOf' in body ? `retry run ${body.retryOf}` : `start ${body.workflow}`}`,
    }),
    (sender) => ({ by: sender }),
    (sender) => ({ by: sender, ...('retryOf' in body ? { runId: body.retryOf } : { workflow: body.workflow }) }),
  );
}

/** `input` with its largest fields uploaded until the rest is within the default inline limit; refusals said as such. */
async function uploadFields(
  nc: NatsConnection,
  sender: string,
  request: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  try {
    return await uploadLargeFields(jetstream(nc), sender, request, input, DEFAULT_INLINE_LIMIT);
  } catch (err) {
    const forbidden = permissionDenied(err);
    if (forbidden !== null)
      throw new LedgerflowError(
        'LF_AUTHORITY_REFUSED',
        `NATS user ${sender} may not upload a large start input (nats.conf permissions: lf.uploads.${sender}.*.*, which \`ledgerflow users nats-conf\` gives every person who may start runs: regenerate the block); nothing was started: ${errorMessage(err)}`,
        { by: sender, forbidden },
        { kind: 'permission' },
      );
    if (/maximum (bytes|messages) exceeded|no responders/i.test(errorMessage(err)))
      throw new LedgerflowError(
        'LF_UPLOADS_FULL',
        `the engines' upload stream (LF_UPLOADS) takes no more of this input: it is full (no engine took what waits there, or its max_bytes is too small for the input: raise LEDGERFLOW_NATS_UPLOADS_MAX_BYTES on the engines), or no engine of this version made it yet; nothing was started (${errorMessage(err)})`,
        { by: sender },
      );
    throw err;
  }
}

/** A fresh run's id for a start or retry request (the engine takes no other form as one). */
export { newRunId as freshRunId };

/** A file's text (a definition, a limits file) handed to the engines as the URL's user: they parse and check it as the file and answer. */
function requestFile<K extends 'deploy' | 'limits'>(
  kind: K,
  url: string,
  body: { file?: string | undefined },
  waitMs: number,
  doing: string,
): Promise<RequestOutcome<Verdicts[K]>> {
  const stem = kind === 'deploy' ? 'deploys' : 'limits';
  return ask(
    kind,
    url,
    body,
    waitMs,
    (sender) => ({
      forbidden: `NATS user ${sender} may not ${doing} (nats.conf permissions: it may publish on lf.${stem}.${sender} only if its block says so (lf.${stem}.${sender}.* before requests had a subject per sender: regenerate it); \`ledgerflow users nats-conf\` gives it to L0 and L1)`,
      failed: `could not publish the ${kind} request`,
    }),
    (sender) => ({ by: sender, ...(body.file ? { file: body.file } : {}) }),
  );
}

/** A definition's text deployed by the engines as the URL's user (they parse and check it as a file). */
export function requestDeploy(
  url: string,
  body: DeployRequest,
  waitMs: number,
): Promise<RequestOutcome<DeployVerdict>> {
  return requestFile('deploy', url, body, waitMs, 'deploy definitions');
}

/** A limits file's text stored by the engines as the URL's user (`limits set`; they parse and check it as the file). */
export function requestLimits(
  url: string,
  body: LimitsRequest,
  waitMs: number,
): Promise<RequestOutcome<LimitsVerdict>> {
  return requestFile('limits', url, body, waitMs, 'set limits');
}

/** What each upkeep verb is called in a refusal of the publish. */
const UPKEEP_WORDS: Record<UpkeepRequest['verb'], string> = {
  archive: 'archive runs',
  restore: 'restore runs',
  'blob-gc': 'collect blobs',
  'keys-rotate': 'rotate the data key',
  'archive-list': 'list the archive',
};

/**
 * An upkeep verb (archive, restore, blob gc, keys rotate) done by the engines as the URL's user: they judge the level
 * (L1; the same refusal, LF_AUTHORITY_REFUSED, as the embedded store's run API) and do it as the engine user.
 */
export function requestUpkeep(
  url: string,
  body: UpkeepRequest,
  waitMs: number,
): Promise<RequestOutcome<UpkeepVerdict>> {
  return ask(
    'upkeep',
    url,
    body,
    waitMs,
    (sender) => ({
      forbidden: `NATS user ${sender} may not ${UPKEEP_WORDS[body.verb]} (nats.conf permissions: it may publish on lf.upkeep.${sender} only if its block says so: regenerate it with \`ledgerflow users nats-conf\`, which gives it to every person; the engine judges the level)`,
      failed: `could not publish the request to ${UPKEEP_WORDS[body.verb]}`,
    }),
    (sender) => ({ by: sender, ...(body.verb === 'restore' ? { runId: body.runId } : {}) }),
  );
}
