/**
 * The NATS backend. Reads (runs, events, definitions, schedules, queues) use the UI's own connection, the --nats URL. A
 * person signs in with their NATS user and password, checked by connecting as them; their session holds a ClusterClient
 * on that user, and every action is published through it, so nats.conf's permissions decide (a violation is a 403
 * naming the subject).
 *
 * Who is connected (GET /api/workers) is read from JetStream consumer info, no extra bookkeeping: each task queue's as
 * cluster/admin/task-queue-stats.ts reads them, and the same counts for the engines' shared consumers of each stream.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect, jetstream, jetstreamManager } from '../store/index.js';
import {
  ClusterClient,
  DefinitionRegistry,
  KvScheduleCursor,
  STREAMS,
  natsSettings,
  requestDeploy,
} from '../cluster/index.js';
import { encode } from '../cluster/transport/messages.js';
import { TriggerVerdict } from '../cluster/transport/run-verdicts.js';
import { listenForVerdict } from '../cluster/client/user-publish.js';
import { DEFINITIONS_BUCKET, subjects } from '../cluster/transport/subjects.js';
import { readTaskQueues } from '../cluster/admin/task-queue-stats.js';
import { natsRuns } from '../runs/index.js';
import { askPresence, unserved } from '../cluster/transport/presence.js';
import { ProgressBucket } from '../cluster/transport/progress-bucket.js';
import { workerRows } from '../coordination/index.js';
import { markUnserved, workerWaits } from '../runtime/index.js';
import { errorMessage, permissionDenied } from '../errors/index.js';
import { parseEventEnvelope, scheduleRows } from '../triggers/index.js';
import { inboxPrefixFor, parseServers } from '../store/index.js';
import { stringify } from 'yaml';
import { personActions, type Actor, type UiEvent } from './actions.js';
import type { Backend, DefinitionVersion } from './backend.js';
import { withRecorded } from './definitions.js';
import { triggerRows } from './embedded.js';
import { ApiError } from './errors.js';
import { eventProblemField } from './schemas.js';
import { openRunIndex } from '../query/index.js';
import { cachedReadAccess, mayReadLog, readRefusal } from './read-access.js';
import { ringOf, sealedProgress } from '../encryption/index.js';

/**
 * A signed-in person: their ClusterClient (actions) and their plain connection (emit), both as that NATS user, and
 * whether nats.conf lets them read the log (asked on that connection, cached a while).
 */
export interface PersonSession {
  cluster: ClusterClient;
  nc: NatsConnection;
  url: string;
  mayRead(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long an action waits for the engine's verdict (as the CLI's --wait default). */
const VERDICT_WAIT_MS = 10_000;

/** The signed-in person acting: their session (a 401 for a request that has none). */
function personOf(actor: Actor): PersonSession {
  const person = actor.session as PersonSession | undefined;
  if (!person)
    throw new ApiError(401, 'LF_UNAUTHORIZED', 'sign in with your NATS user: POST /api/session { user, password }');
  return person;
}

/** The --nats URL's servers with a person's credentials (percent-encoded into each URL). */
export function urlAs(url: string, user: string, password: string): string {
  const { servers, domain } = parseServers(url);
  return servers
    .map((s, i) => {
      const u = new URL(s);
      u.username = encodeURIComponent(user);
      u.password = encodeURIComponent(password);
      if (domain && i === 0) u.searchParams.set('domain', domain); // a station's: kept with the servers
      return u.toString().replace(/\/$/, '').replace(/\/\?/, '?');
    })
    .join(',');
}

export async function natsBackend(opts: { url: string }): Promise<
  Backend & {
    readRefusal(actor: Actor): Promise<ApiError | null>;
    signIn(user: string, password: string): Promise<PersonSession>;
    jetstreamManager(): Promise<JetStreamManager>;
  }
> {
  const settings = natsSettings();
  const logStream = settings.store.stream ?? 'LF_EVENTS';
  const reader = new ClusterClient(opts.url, settings);
  await reader.conn(); // connects (a wrong URL fails the start, not the first page) and makes the streams
  const nc: NatsConnection = await reader.store.connection();
  // Live: KV LF_RUNS_INDEX kept in memory through a watch (the engines' projection writes it).
  const runs = openRunIndex({ store: reader.store, live: true });
  // Loaded now, not at the first page; a failure here is the first page's to report (it loads again).
  runs
    .versions()
    .catch((err: unknown) =>
      process.emitWarning(`ledgerflow ui: run index: ${errorMessage(err)}`, 'LedgerflowIndexWarning'),
    );

  // One registry for every page: its version keys are read from the bucket's stream (keys(), no consumer left behind).
  const registry = new DefinitionRegistry(jetstream(nc));
  const deployed = async (): Promise<DefinitionVersion[]> => {
    const latest = await reader.deployed();
    const out: DefinitionVersion[] = [];
    for (const def of latest) {
      const versions: number[] = [];
      for (const key of await registry.keys(`wf.${def.id}.*`)) {
        const v = Number(key.split('.').at(-1));
        if (Number.isInteger(v)) versions.push(v);
      }
      for (const v of versions.sort((a, b) => b - a)) {
        const d = v === def.version ? def : await reader.resolve(`${def.id}@${v}`);
        // The YAML it was deployed from when the deployer sent it (deploy, the editor); else the definition rendered.
        const text = await registry.text(d.id, d.version);
        out.push({
          id: d.id,
          version: d.version,
          source: 'deployed',
          yaml: text ?? stringify(d),
          ...(text !== null ? { deployedText: true as const } : {}),
          definition: d,
          problems: [],
        });
      }
    }
    return out;
  };

  /** Published as the person on their own plain connection (no JetStream API needed): nats.conf decides with one line, "lf.triggers.<type>". */
  async function emit(person: PersonSession, user: string, raw: UiEvent) {
    const parsed = parseEventEnvelope(raw);
    if (!parsed.ok)
      throw new ApiError(400, 'LF_INPUT_INVALID', `not a valid event: ${parsed.problems.join('; ')}`, {
        field: eventProblemField(parsed.problems),
      });
    const { event } = parsed;
    let subject: string;
    try {
      subject = subjects.trigger(event.type);
    } catch (err) {
      throw new ApiError(400, 'LF_INPUT_INVALID', `type: ${errorMessage(err)}`, { field: 'type' });
    }
    // The engines check the schema and answer on lf.verdicts.triggers.<id> (none when this person may not hear it, or
    // the id can be no subject token).
    let hear: string | null = null;
    try {
      hear = subjects.triggerVerdict(event.id);
    } catch {
      /* not heard */
    }
    // An event is one message on NATS (it is not uploaded as a start's large fields are): one over the server's
    // max_payload is said as such, before anything is published.
    const body = encode(event);
    const maxPayload = person.nc.info?.max_payload;
    if (maxPayload !== undefined && body.length > maxPayload)
      throw new ApiError(
        413,
        'LF_BODY_TOO_LARGE',
        `event ${event.id} (${event.type}) is ${body.length} bytes as JSON, over this NATS server's max_payload (${maxPayload} bytes): on NATS an event travels in one message; nothing was published. Start the run with POST /api/workflows/:id/start instead (its large fields are uploaded apart), or keep large data out of the event (a path, a key, a URL)`,
        { field: 'data' },
      );
    const verdict = hear ? await listenForVerdict(person.nc, hear, TriggerVerdict, VERDICT_WAIT_MS) : null;
    try {
      await jetstream(person.nc).publish(subject, body, { msgID: event.id });
    } catch (err) {
      const refused = permissionDenied(err);
      if (refused === null) throw err;
      throw new ApiError(
        403,
        'LF_FORBIDDEN',
        `NATS user ${user} may not emit ${event.type} events: add "${subject}" (or "lf.triggers.>") to the user's publish permissions in nats.conf, and "lf.verdicts.triggers.*" to its subscribe permissions to hear the engines' verdict`,
        { subject: refused || subject },
      );
    }
    const v = verdict ? await verdict.next : null;
    if (v && !v.accepted) {
      const field = /\b(data(?:\.[\w-]+|\[\d+\])*):/.exec(v.reason ?? '')?.[1] ?? 'data';
      throw new ApiError(
        400,
        'LF_INPUT_INVALID',
        `${field}: event ${event.id} (${event.type}) rejected${v.stage ? ` (${v.stage})` : ''}: ${v.reason ?? 'refused'}`,
        { field },
      );
    }
    return { event, published: true, verdict: v };
  }

  // Every action is taken through the signed-in person's own connection, so nats.conf's permissions decide; a person's
  // input, start and retry go through the run API, judged by the engines (their verdict waited for, refusals thrown).
  const actions = (actor: Actor) => {
    const person = personOf(actor);
    const { user } = actor;
    const client = person.cluster;
    const instead =
      'Sign in as a user that has them, or start the run from a trigger event (POST /api/events/:type) if the user may publish it';
    return personActions(actor, {
      runs: natsRuns({ client, url: person.url, fallback: user, waitMs: VERDICT_WAIT_MS }),
      store: client.store,
      acting(as) {
        if (as !== undefined && as !== user)
          throw new ApiError(
            400,
            'LF_INPUT_INVALID',
            `as: over NATS you act as the user you signed in as (${user}), not ${as}`,
            { field: 'as' },
          );
        return {};
      },
      // The definition is read with the UI's own connection (people may not read the registry): a bad form is a 400 whoever asks.
      async startable(workflowId, version) {
        const definition = await reader
          .resolve(version === undefined ? workflowId : `${workflowId}@${version}`)
          .catch((err: unknown) => {
            if ((err as { code?: string }).code === 'LF_WORKFLOW_NOT_DEPLOYED') {
              throw new ApiError(
                version === undefined ? 404 : 400,
                version === undefined ? 'LF_DEFINITION_NOT_FOUND' : 'LF_INPUT_INVALID',
                errorMessage(err),
                version === undefined ? {} : { field: 'version' },
              );
            }
            throw err;
          });
        return { definition };
      },
      // A person's start is a request the engines judge (L1, or L2 in its domain); a user that may write the log records it.
      startNeeds: async (workflowId) =>
        (await client.mayWriteLog())
          ? `a start records run.started in the log as that user, as \`ledgerflow start --nats\` does, which needs the JetStream API ("$JS.API.>"), the registry (KV ${DEFINITIONS_BUCKET}), "lf.events.${workflowId}.*" and "lf.inputs.${user}.*" in the user's publish permissions; the shipped nats.conf gives that to the engine user only. ${instead}`
          : `a person's start is published on "lf.starts.${user}" (the verdict heard on "lf.verdicts.starts.${user}.*"), which \`ledgerflow users nats-conf\` gives to L0, L1 and L2 (the shipped nats.conf to its people, alice, bob, cfo and commander), and an engine started with --users judges the level. ${instead}`,
      // The person's own connection: nats.conf decides whether they may write the schedules' bucket.
      schedule: (a) => client.schedules(a),
      emit: (event) => emit(person, user, event),
    });
  };

  return {
    mode: 'nats',
    store: reader.store,
    runs,
    progress: sealedProgress(new ProgressBucket(() => reader.store.connection()), ringOf(reader.store)),
    actions,
    definitions: async () => withRecorded(reader.store, runs, await deployed()),
    async deploy(actor, draft) {
      // As `ledgerflow deploy --nats` as that person: a user that may not write the registry asks the engines, which judge L1.
      const person = personOf(actor);
      if (await person.cluster.mayWriteLog()) return person.cluster.deploy(draft.definition, draft.yaml);
      const out = await requestDeploy(
        person.url,
        { file: `${draft.definition.id}.yaml`, text: draft.yaml },
        VERDICT_WAIT_MS,
      );
      if (out.queued)
        return { workflowId: draft.definition.id, version: draft.definition.version, queued: true as const };
      const v = out.verdict;
      return {
        workflowId: v.workflowId ?? draft.definition.id,
        version: v.version ?? draft.definition.version,
        ...(v.hash ? { hash: v.hash } : {}),
        ...(v.changed !== undefined ? { changed: v.changed } : {}),
      };
    },
    async schedules() {
      const { replicas, storage } = settings.cluster;
      const cursor = new KvScheduleCursor(jetstream(nc), {
        ...(replicas ? { replicas } : {}),
        ...(storage ? { storage } : {}),
      });
      return scheduleRows(await reader.deployed(), await cursor.all(), reader.store, Date.now(), 3);
    },
    triggers: async () => triggerRows(await reader.deployed()),
    async workers() {
      const jsm = await jetstreamManager(nc);
      const engines: unknown[] = [];
      for (const stream of Object.values(STREAMS)) {
        let list;
        try {
          list = await jsm.consumers.list(stream.name).next();
        } catch {
          continue;
        } // not created yet
        for (const ci of list)
          engines.push({
            stream: stream.name,
            consumer: ci.name,
            pending: ci.num_pending,
            inFlight: ci.num_ack_pending,
            waiting: ci.num_waiting,
            redelivered: ci.num_redelivered,
          });
      }
      const queues = (await readTaskQueues(jsm)).map((q) => ({ ...q, backlog: q.pending, workers: q.waiting }));
      // What workers announce (presence.ts), as an engine heard it; null when no engine answers.
      const presence = await askPresence(nc);
      return { mode: 'nats', server: nc.getServer(), queues, engines, announced: presence?.workers ?? null };
    },
    async agents() {
      return workerRows((await askPresence(nc))?.workers ?? [], Date.now());
    },
    async markUnserved(definition, view) {
      const waits = workerWaits(definition, view);
      if (waits.length === 0) return view;
      const report = await askPresence(nc);
      return markUnserved(view, waits, (queue, handler) => unserved(report, queue, handler));
    },
    async signIn(user, password) {
      const url = urlAs(opts.url, user, password);
      const { servers, domain } = parseServers(url);
      // The password is checked by NATS itself: connect as that user, once.
      const probe = await connect({
        servers,
        user,
        pass: password,
        ...(domain ? { domain } : {}),
        inboxPrefix: inboxPrefixFor(user),
        name: `ledgerflow-ui-${user}`,
        timeout: 5000,
      }).catch((err: unknown) => {
        const msg = String((err as { code?: unknown }).code ?? '') + ' ' + errorMessage(err);
        if (/authoriz|authenticat|AUTHORIZATION_VIOLATION/i.test(msg))
          throw new ApiError(401, 'LF_UNAUTHORIZED', `NATS refused user ${user}: wrong user or password`);
        throw new ApiError(503, 'LF_STORE', `cannot reach NATS to sign in: ${errorMessage(err)}`);
      });
      // Kept as the person's plain connection (emit, the read probe); the ClusterClient makes its own for the rest.
      const cluster = new ClusterClient(url, settings);
      const mayRead = cachedReadAccess(() => mayReadLog(probe, logStream));
      const session: PersonSession = {
        cluster,
        nc: probe,
        url,
        mayRead,
        async close() {
          await Promise.allSettled([cluster.close(), probe.close()]);
        },
      };
      // Asked now: the sign-in's answer says whether the page may show runs (and NATS trouble shows here, not later).
      try {
        await mayRead();
      } catch (err) {
        await session.close();
        throw err;
      }
      return session;
    },
    async readRefusal(actor: Actor) {
      const person = actor.session as PersonSession | undefined;
      // No person (not a sign-in session): the app only asks for cookie sessions, which on NATS always hold one.
      if (!person) return readRefusal(actor.user, logStream);
      return (await person.mayRead()) ? null : readRefusal(actor.user, logStream);
    },
    jetstreamManager: () => jetstreamManager(nc),
    actorOf(auth) {
      return { user: auth.user, ...(auth.session?.client ? { session: auth.session.client } : {}) };
    },
    async close() {
      await runs.close();
      await reader.close();
    },
  };
}
