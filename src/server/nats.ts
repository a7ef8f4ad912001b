/**
 * The NATS backend. Reads (runs, events, definitions, schedules, queues) use
 * the UI's own connection, the --nats URL. A person signs in with their NATS
 * user and password, checked by connecting as them; their session holds a
 * ClusterClient on that user, and every action is published through it, so
 * nats.conf's permissions decide (a violation is a 403 naming the subject).
 *
 * Who is connected (GET /api/workers) is read from JetStream consumer info,
 * no extra bookkeeping: per task queue (consumer w_<queue>_<handler> of LF_TASKS_<queue>)
 * its backlog (num_pending), attempts in flight (num_ack_pending) and the
 * pull requests waiting (num_waiting: workers idle and connected); the same
 * for the engines' shared consumers on each input stream.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect, jetstream, jetstreamManager } from '../store/index.js';
import { ClusterClient, DefinitionRegistry, KvScheduleCursor, STREAMS, freshRunId, natsSettings, requestDeploy, requestStart } from '../cluster/index.js';
import { decode, encode, TriggerVerdict } from '../cluster/transport/messages.js';
import { DEFINITIONS_BUCKET, subjects } from '../cluster/transport/subjects.js';
import { readTaskQueues } from '../cluster/admin/task-queue-stats.js';
import { migrateRuns, setBreaker, type InputOutcome, type RunInput } from '../executor/index.js';
import { natsRuns } from '../runs/index.js';
import { askPresence, unserved } from '../cluster/transport/presence.js';
import { workerRows } from '../coordination/index.js';
import { markUnserved, workerWaits } from '../runtime/index.js';
import { PauseRefusedError, errorMessage, permissionDenied } from '../errors/index.js';
import { parseEventEnvelope, scheduleRows } from '../triggers/index.js';
import { inboxPrefixFor, parseServers } from '../store/index.js';
import { stringify } from 'yaml';
import type { Auth } from './auth.js';
import type { Actions, Actor, Backend, DefinitionVersion } from './backend.js';
import { byIdAndVersion, definitionsInRuns } from './definitions.js';
import { triggerRows } from './embedded.js';
import { ApiError } from './errors.js';
import { checkStartInput, eventProblemField } from './schemas.js';
import { openRunIndex } from '../query/index.js';
import { cachedReadAccess, mayReadLog, readRefusal } from './read-access.js';

/**
 * A signed-in person: their ClusterClient (actions) and their plain connection (emit), both as that NATS user,
 * and whether nats.conf lets them read the log (asked on that connection, cached a while).
 */
export interface PersonSession { cluster: ClusterClient; nc: NatsConnection; url: string; mayRead(): Promise<boolean>; close(): Promise<void> }

/**
 * Listens for the engines' verdict on an event before it is published. A
 * person whose nats.conf block may not subscribe to verdicts gets none (null),
 * not an error: the event was still published.
 */
async function listen(nc: NatsConnection, eventId: string): Promise<{ next: Promise<TriggerVerdict | null>; stop(): void }> {
  let subject: string;
  try { subject = subjects.triggerVerdict(eventId); } catch { return { next: Promise.resolve(null), stop: () => undefined }; }
  const sub = nc.subscribe(subject, { max: 1, timeout: VERDICT_WAIT_MS });
  const next = (async () => {
    try {
      for await (const m of sub) { const v = TriggerVerdict.safeParse(decode(m.data)); return v.success ? v.data : null; }
    } catch { /* timed out, or the subscription was refused */ }
    return null;
  })();
  await nc.flush();
  return { next, stop: () => sub.unsubscribe() };
}

/** How long an action waits for the engine's verdict (as the CLI's --wait default). */
const VERDICT_WAIT_MS = 10_000;

/** The --nats URL's servers with a person's credentials (percent-encoded into each URL). */
export function urlAs(url: string, user: string, password: string): string {
  const { servers, domain } = parseServers(url);
  return servers.map((s, i) => {
    const u = new URL(s);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    if (domain && i === 0) u.searchParams.set('domain', domain); // a station's: kept with the servers
    return u.toString().replace(/\/$/, '').replace(/\/\?/, '?');
  }).join(',');
}

export async function natsBackend(opts: { url: string }): Promise<Backend & { readRefusal(actor: Actor): Promise<ApiError | null>; signIn(user: string, password: string): Promise<PersonSession>; actorOf(auth: Auth): Actor; jetstreamManager(): Promise<JetStreamManager> }> {
  const settings = natsSettings();
  const logStream = settings.store.stream ?? 'LF_EVENTS';
  const reader = new ClusterClient(opts.url, settings);
  await reader.prepare(); // connects (a wrong URL fails the start, not the first page) and makes the streams
  const nc: NatsConnection = await reader.store.connection();
  // Live: KV LF_RUNS_INDEX kept in memory through a watch (the engines' projection writes it).
  const runs = openRunIndex({ store: reader.store, live: true });
  // Loaded now, not at the first page; a failure here is the first page's to report (it loads again).
  runs.versions().catch((err: unknown) => process.emitWarning(`ledgerflow ui: run index: ${errorMessage(err)}`, 'LedgerflowIndexWarning'));

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
        out.push({ id: d.id, version: d.version, source: 'deployed', yaml: text ?? stringify(d), ...(text !== null ? { deployedText: true as const } : {}), definition: d, problems: [] });
      }
    }
    return out;
  };

  const actions = (actor: Actor): Actions => {
    const client = (actor.session as PersonSession | undefined)?.cluster;
    if (!client) throw new ApiError(401, 'LF_UNAUTHORIZED', 'sign in with your NATS user: POST /api/session { user, password }');
    const user = actor.user;
    const same = (as?: string) => {
      if (as !== undefined && as !== user) throw new ApiError(400, 'LF_INPUT_INVALID', `as: over NATS you act as the user you signed in as (${user}), not ${as}`, { field: 'as' });
    };
    // A person's input goes through the run API as on the embedded store: published as the signed-in NATS user,
    // judged by the engine that records it (nats.conf first); its verdict waited for, refusals thrown.
    const runApi = natsRuns({ client, url: (actor.session as PersonSession).url, fallback: user });
    const take = (runId: string, input: RunInput) => runApi.input(runId, input, {}, { waitMs: VERDICT_WAIT_MS });
    const seqOf = (o: InputOutcome) => (o.seq !== null ? { seq: o.seq } : {});
    return {
      async decide(runId, task, decision, comment, as) {
        same(as);
        const o = await take(runId, { kind: 'approval', taskId: task, decision, ...(comment !== undefined ? { comment } : {}) });
        return { runId, task, decision, by: o.by, published: true, recorded: o.recorded, ...seqOf(o) };
      },
      async signal(runId, name, data, as) {
        same(as);
        const o = await take(runId, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) });
        return { runId, name, by: o.by, published: true, recorded: o.recorded, ...seqOf(o) };
      },
      async cancel(runId, reason, as) {
        same(as);
        const o = await take(runId, { kind: 'control', action: 'cancel', ...(reason !== undefined ? { reason } : {}) });
        return { runId, published: true, recorded: o.recorded, ...(o.status !== null ? { status: o.status } : {}), ...seqOf(o) };
      },
      async pause(runId, reason, as) {
        same(as);
        const o = await take(runId, { kind: 'control', action: 'pause', ...(reason !== undefined ? { reason } : {}) });
        return { runId, published: true, recorded: o.recorded, ...(o.status !== null ? { status: o.status } : {}), ...seqOf(o) };
      },
      async resume(runId, as) {
        same(as);
        const o = await take(runId, { kind: 'control', action: 'resume' });
        if (!o.changed) throw new PauseRefusedError(`cannot resume run ${runId}: it is ${o.status ?? 'not paused'}, not paused; nothing was recorded`, { runId, status: o.status });
        return { runId, published: true, recorded: o.recorded, ...(o.status !== null ? { status: o.status } : {}) };
      },
      async retry(runId, _as, newRunId) {
        // Through the run API: a person's user may not write the log, so the engines judge their level (L1) and record it.
        const r = await runApi.retry(runId, {}, { ...(newRunId ? { runId: newRunId } : {}), waitMs: VERDICT_WAIT_MS });
        return r.queued ? { runId: r.runId, queued: true as const } : { runId: r.runId };
      },
      async start(workflowId, input, version, id) {
        const ref = version === undefined ? workflowId : `${workflowId}@${version}`;
        // The definition and the input are checked with the UI's own connection (people may not read the
        // registry): a bad form is a 400 whoever asks. The start itself is taken as the person.
        const definition = await reader.resolve(ref).catch((err: unknown) => {
          if ((err as { code?: string }).code === 'LF_WORKFLOW_NOT_DEPLOYED') {
            throw new ApiError(version === undefined ? 404 : 400, version === undefined ? 'LF_DEFINITION_NOT_FOUND' : 'LF_INPUT_INVALID', errorMessage(err), version === undefined ? {} : { field: 'version' });
          }
          throw err;
        });
        checkStartInput(definition, input);
        // A person's user may not write the log: the engines judge their level (L1, or L2 in its domain) and start
        // it as the engine user (as `ledgerflow start --nats`); a refusal is a 403 naming both levels.
        if (!(await client.mayWriteLog())) {
          const body = { workflow: ref, input, ...(id?.runId !== undefined ? { id: id.runId, ...(id.idReuse ? { idReuse: id.idReuse } : {}) } : { runId: freshRunId() }), ...(id?.priority !== undefined ? { priority: id.priority } : {}) };
          const out = await requestStart((actor.session as PersonSession).url, body, VERDICT_WAIT_MS).catch((err: unknown) => {
            const subject = permissionDenied(err);
            if (subject === null) throw err;
            throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not start runs (refused by nats.conf${subject ? ` on ${subject}` : ''}): a person's start is published on "lf.starts.${user}" (the verdict heard on "lf.verdicts.starts.${user}.*"), `
              + 'which `ledgerflow users nats-conf` gives to L0, L1 and L2, and an engine started with --users judges the level; the shipped nats.conf gives it to nobody but the engine user. '
              + 'Sign in as a user that has them, or start the run from a trigger event (POST /api/events/:type) if the user may publish it', subject ? { subject } : {});
          });
          if (out.queued) return { runId: out.runId ?? id!.runId!, queued: true as const };
          const v = out.verdict;
          return { runId: v.runId!, ...(v.status ? { status: v.status } : {}), ...(v.existing ? { existing: true as const } : {}) };
        }
        try {
          const started = await client.start(ref, input, id ?? {});
          return { runId: started.runId, ...(started.status ? { status: started.status } : {}), ...(started.existing ? { existing: true as const } : {}) };
        } catch (err) {
          const subject = permissionDenied(err);
          if (subject === null) throw err;
          throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not start runs (refused by nats.conf${subject ? ` on ${subject}` : ''}): a start records run.started in the log as that user, as \`ledgerflow start --nats\` does, `
            + `which needs the JetStream API ("$JS.API.>"), the registry (KV ${DEFINITIONS_BUCKET}), "lf.events.${definition.id}.*" and "lf.inputs.${user}.*" in the user's publish permissions; `
            + 'the shipped nats.conf gives that to the engine user only. Sign in as a user that has them, or start the run from a trigger event (POST /api/events/:type) if the user may publish it', subject ? { subject } : {});
        }
      },
      async schedule(a) {
        // The person's own connection: nats.conf decides whether they may write the schedules' bucket.
        try {
          return await client.schedules(a.action === 'pause' ? { ...a, by: user } : a);
        } catch (err) {
          const subject = permissionDenied(err);
          if (subject === null) throw err;
          throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not change schedules (the KV bucket LF_SCHEDULES): nats.conf gives that to the engine user`, subject ? { subject } : {});
        }
      },
      async migrate(runIds, target, map, dryRun) {
        // The person's own connection: nats.conf decides whether they may write the runs' log.
        try {
          return await migrateRuns(client.store, runIds, target, map, { dryRun, by: user, now: () => new Date().toISOString() });
        } catch (err) {
          const subject = permissionDenied(err);
          if (subject === null) throw err;
          throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not migrate runs (it appends run.migrated to the runs' log): nats.conf gives that to the engine user`, subject ? { subject } : {});
        }
      },
      async breaker(name, to) {
        // The person's own connection: nats.conf decides whether they may change the task gates' bucket.
        try {
          return { breaker: await setBreaker(client.store, name, to, Date.now()) };
        } catch (err) {
          const subject = permissionDenied(err);
          if (subject === null) throw err;
          throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not change breakers (the KV bucket LF_TASK_GATES): nats.conf gives that to the engine user`, subject ? { subject } : {});
        }
      },
      async emit(type, data, id) {
        const parsed = parseEventEnvelope({ id: id ?? randomUUID(), type, time: new Date().toISOString(), source: `ui:${user}`, data });
        if (!parsed.ok) throw new ApiError(400, 'LF_INPUT_INVALID', `not a valid event: ${parsed.problems.join('; ')}`, { field: eventProblemField(parsed.problems) });
        const { event } = parsed;
        let subject: string;
        try { subject = subjects.trigger(event.type); } catch (err) { throw new ApiError(400, 'LF_INPUT_INVALID', `type: ${errorMessage(err)}`, { field: 'type' }); }
        // Published as the person on their own plain connection (no JetStream API needed): nats.conf decides
        // with one line, "lf.triggers.<type>"; the engines check the schema and answer on lf.verdicts.triggers.<id>.
        const nc = (actor.session as PersonSession).nc;
        const verdict = await listen(nc, event.id);
        try {
          await jetstream(nc).publish(subject, encode(event), { msgID: event.id });
        } catch (err) {
          verdict.stop();
          const refused = permissionDenied(err);
          if (refused === null) throw err;
          throw new ApiError(403, 'LF_FORBIDDEN', `NATS user ${user} may not emit ${event.type} events: add "${subject}" (or "lf.triggers.>") to the user's publish permissions in nats.conf, and "lf.verdicts.triggers.*" to its subscribe permissions to hear the engines' verdict`, { subject: refused || subject });
        }
        const v = await verdict.next;
        if (v && !v.accepted) {
          const field = /\b(data(?:\.[\w-]+|\[\d+\])*):/.exec(v.reason ?? '')?.[1] ?? 'data';
          throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: event ${event.id} (${event.type}) rejected${v.stage ? ` (${v.stage})` : ''}: ${v.reason ?? 'refused'}`, { field });
        }
        return { event, published: true, verdict: v };
      },
    };
  };

  return {
    mode: 'nats', store: reader.store, runs, actions,
    async definitions() {
      const d = await deployed();
      return byIdAndVersion([...d, ...(await definitionsInRuns(reader.store, runs, d))]);
    },
    async deploy(actor, draft) {
      // As `ledgerflow deploy --nats` as that person: a user that may not write the registry asks the engines, which judge L1.
      const person = actor.session as PersonSession | undefined;
      if (!person) throw new ApiError(401, 'LF_UNAUTHORIZED', 'sign in with your NATS user: POST /api/session { user, password }');
      if (await person.cluster.mayWriteLog()) return person.cluster.deploy(draft.definition, draft.yaml);
      const out = await requestDeploy(person.url, { file: `${draft.definition.id}.yaml`, text: draft.yaml }, VERDICT_WAIT_MS);
      if (out.queued) return { workflowId: draft.definition.id, version: draft.definition.version, queued: true as const };
      const v = out.verdict;
      return { workflowId: v.workflowId ?? draft.definition.id, version: v.version ?? draft.definition.version, ...(v.hash ? { hash: v.hash } : {}), ...(v.changed !== undefined ? { changed: v.changed } : {}) };
    },
    async schedules() {
      const { replicas, storage } = settings.cluster;
      const cursor = new KvScheduleCursor(jetstream(nc), { ...(replicas ? { replicas } : {}), ...(storage ? { storage } : {}) });
      return scheduleRows(await reader.deployed(), await cursor.all(), reader.store, Date.now(), 3);
    },
    async triggers() {
      return triggerRows(byIdAndVersion((await reader.deployed()).map((d) => ({ id: d.id, version: d.version, source: 'deployed' as const, yaml: '', definition: d, problems: [] }))));
    },
    async workers() {
      const jsm = await jetstreamManager(nc);
      const engines: unknown[] = [];
      for (const stream of Object.values(STREAMS)) {
        let list;
        try { list = await jsm.consumers.list(stream.name).next(); } catch { continue; } // not created yet
        for (const ci of list) engines.push({ stream: stream.name, consumer: ci.name, pending: ci.num_pending, inFlight: ci.num_ack_pending, waiting: ci.num_waiting, redelivered: ci.num_redelivered });
      }
      // Each queue its own stream LF_TASKS_<queue> (src/cluster/admin/task-queue-stats.ts): a row per worker consumer, and per subject no consumer reads.
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
      const probe = await connect({ servers, user, pass: password, ...(domain ? { domain } : {}), inboxPrefix: inboxPrefixFor(user), name: `ledgerflow-ui-${user}`, timeout: 5000 }).catch((err: unknown) => {
        const msg = String((err as { code?: unknown }).code ?? '') + ' ' + errorMessage(err);
        if (/authoriz|authenticat|AUTHORIZATION_VIOLATION/i.test(msg)) throw new ApiError(401, 'LF_UNAUTHORIZED', `NATS refused user ${user}: wrong user or password`);
        throw new ApiError(503, 'LF_STORE', `cannot reach NATS to sign in: ${errorMessage(err)}`);
      });
      // Kept as the person's plain connection (emit, the read probe); the ClusterClient makes its own for the rest.
      const cluster = new ClusterClient(url, settings);
      const mayRead = cachedReadAccess(() => mayReadLog(probe, logStream));
      const session: PersonSession = { cluster, nc: probe, url, mayRead, async close() { await Promise.allSettled([cluster.close(), probe.close()]); } };
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
    actorOf(auth: Auth): Actor {
      return { user: auth.user, ...(auth.session?.client ? { session: auth.session.client } : {}) };
    },
    async close() {
      await runs.close();
      await reader.close();
    },
  };
}
