/**
 * Deployed definitions: validated, versioned and content-addressed in a KV bucket every engine reads. Keys:
 * `def.<hash>` (the normalised Definition), `src.<hash>` (the YAML it was deployed from, when the deployer sent it:
 * what the dashboard's editor starts from), `wf.<workflowId>.<version>` → hash, `wf.<workflowId>.latest` → version.
 * Deploying the same content twice is a no-op; other content under a deployed version is refused (bump `version`).
 * Runs record their definition in run.started, so a new deployment never changes a started run.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import {
  definitionHash,
  definitionLimitProblem,
  MAX_DEFINITION_BYTES,
  MAX_DEFINITION_JSON_BYTES,
  tooLargeMessage,
  tooLargeStoredMessage,
  type Definition,
} from '../../definition/index.js';
import { LedgerflowError, UsageError } from '../../errors/index.js';
import { carryWorkflow } from '../../compiler/index.js';
import { DEFINITIONS_BUCKET, token } from './subjects.js';
import { createBucket } from './create-retry.js';
import { trimOldest } from '../../bounded.js';
import { LatestVersions } from './latest-versions.js';

const text = (v: Uint8Array) => new TextDecoder().decode(v);

/** Definitions a registry keeps parsed, by hash (the oldest read is forgotten first). */
const KEPT_BODIES = 64;
/** Versions' hashes a registry keeps, by `<workflowId>@<version>` (the oldest read is forgotten first). */
const KEPT_VERSIONS = 1024;

export class DefinitionRegistry {
  private kvPromise: Promise<KV> | undefined;
  private jsmPromise: Promise<JetStreamManager> | undefined;
  /**
   * `def.<hash>` bodies read and checked, by hash: content-addressed, so one never changes, and a
   * client starting many runs (`serve`, triggers, the library) reads each once, not at every start
   * (`latest`, which a deploy moves, is watched once a process has read it twice: latest-versions.ts).
   */
  private readonly bodies = new Map<string, Definition>();
  /**
   * `wf.<workflowId>.<version>` → hash, as read: a version's key is created once and never written again (other content
   * under a deployed version is refused), so a start reads only `latest` (one request instead of two).
   */
  private readonly versions = new Map<string, string>();
  /** `src.<hash>` texts read, by hash: content-addressed as the bodies are (the oldest read is forgotten first). */
  private readonly texts = new Map<string, string>();
  /** Every workflow's latest version, watched once this registry has read one twice (a process starting many runs). */
  private readonly latest = new LatestVersions(
    () => this.kv(),
    (err) => process.emitWarning(`the definitions' latest versions are read at each start again: ${String(err)}`),
  );
  /** Workflows whose latest version this registry read (a second read of one starts the watch). */
  private readonly latestRead = new Set<string>();
  /** `replicas` and `storage`: the cluster's settings (LEDGERFLOW_NATS_REPLICAS, …), used when the bucket is created. */
  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: { replicas?: number; storage?: 'file' | 'memory' } = {},
  ) {}

  private kv(): Promise<KV> {
    this.kvPromise ??= createBucket(this.js, DEFINITIONS_BUCKET, this.opts);
    return this.kvPromise;
  }

  private async getText(key: string, limit = Infinity): Promise<string | null> {
    const e = await (await this.kv()).get(key);
    // A deleted key comes back as an entry with operation DEL, not null.
    if (!e || e.operation !== 'PUT') return null;
    if (e.value.length > limit)
      throw new LedgerflowError(
        'LF_DEFINITION_TOO_LARGE',
        `${key} is ${e.value.length} bytes: ${tooLargeStoredMessage()}, then deploy it as a new version`,
        { key, bytes: e.value.length },
      );
    return text(e.value);
  }

  /**
   * Stores a definition; `changed` is false when exactly this content was already deployed as this version.
   * `text`: the YAML it was parsed from (a file's, a deploy request's, the editor's draft), kept beside it as
   * `src.<hash>` for the dashboard's editor and diff; a definition deployed as an object keeps none.
   */
  async deploy(
    def: Definition,
    text?: string,
  ): Promise<{ workflowId: string; version: number; hash: string; changed: boolean }> {
    // A definition object not parsed here (the library's callers) meets the limits a file does.
    const over = definitionLimitProblem(def);
    if (over)
      throw new UsageError(
        `${def.id} version ${def.version}: ${over.message}; nothing was deployed`,
        { workflowId: def.id, version: def.version },
        over.code,
      );
    const bytes = text === undefined ? 0 : Buffer.byteLength(text);
    if (bytes > MAX_DEFINITION_BYTES)
      throw new UsageError(
        `${def.id} version ${def.version}: ${tooLargeMessage(bytes)}; nothing was deployed`,
        { workflowId: def.id, version: def.version },
        'LF_DEFINITION_TOO_LARGE',
      );
    const kv = await this.kv();
    const hash = definitionHash(def);
    const versionKey = `wf.${token(def.id)}.${def.version}`;
    const existing = await this.getText(versionKey);
    if (existing === hash) return { workflowId: def.id, version: def.version, hash, changed: false };
    if (existing !== null) {
      throw new UsageError(
        `${def.id} version ${def.version} is already deployed with other content (${existing.slice(0, 12)}); bump \`version\` to deploy a change`,
        { workflowId: def.id, version: def.version },
      );
    }
    await kv.put(`def.${hash}`, JSON.stringify(def));
    // Before the version's key: a version that can be read has its text, when it was sent one.
    if (text !== undefined) await kv.put(`src.${hash}`, text);
    try {
      await kv.create(versionKey, hash);
    } catch {
      // Raced with another deploy of the same version: fine if it was the same content.
      if ((await this.getText(versionKey)) !== hash)
        throw new UsageError(`${def.id} version ${def.version} was just deployed with other content`, {
          workflowId: def.id,
        });
      return { workflowId: def.id, version: def.version, hash, changed: false };
    }
    const latest = Number((await this.getText(`wf.${def.id}.latest`)) ?? 0);
    if (def.version > latest)
      this.latest.learn(def.id, String(def.version), await kv.put(`wf.${def.id}.latest`, String(def.version)));
    return { workflowId: def.id, version: def.version, hash, changed: true };
  }

  /** `workflowId` or `workflowId@version`. */
  async resolve(ref: string): Promise<Definition> {
    const [id, v] = ref.split('@');
    if (!id)
      throw new UsageError(`"${ref}" is not a workflow reference; use <workflowId> or <workflowId>@<version>`, { ref });
    const version = v ?? this.latest.get(token(id)) ?? (await this.readLatest(token(id)));
    if (!version)
      throw new LedgerflowError(
        'LF_WORKFLOW_NOT_DEPLOYED',
        `workflow ${id} is not deployed; run \`ledgerflow deploy <file> --nats <url>\` first`,
        { workflowId: id },
      );
    const hash = await this.versionHash(id, version);
    if (!hash)
      throw new LedgerflowError('LF_WORKFLOW_NOT_DEPLOYED', `workflow ${id} has no version ${version} deployed`, {
        workflowId: id,
        version,
      });
    const known = this.bodies.get(hash);
    if (known) return known;
    // Read back under the limits a deploy checks: one stored before them (or by another client) is refused, not run.
    const body = await this.getText(`def.${hash}`, MAX_DEFINITION_JSON_BYTES);
    if (!body)
      throw new LedgerflowError(
        'LF_WORKFLOW_NOT_DEPLOYED',
        `definition ${hash} of ${id}@${version} is missing from the registry`,
        { hash },
      );
    // Starts that began together each read the body: the first to get here is the one kept, and the others
    // take it, so that one object (carrying its workflow value) goes to every start.
    const kept = this.bodies.get(hash);
    if (kept) return kept;
    const def = JSON.parse(body) as Definition;
    const over = definitionLimitProblem(def);
    if (over)
      throw new LedgerflowError(
        over.code,
        `deployed ${id}@${version}: ${over.message}, then deploy it as a new version`,
        { workflowId: id, version },
      );
    // Hashed and compiled here once: a start of it reads the value off the object (compiler/workflow.ts carryWorkflow).
    carryWorkflow(def);
    this.bodies.set(hash, def);
    trimOldest(this.bodies, KEPT_BODIES);
    return def;
  }

  /** `wf.<id>.latest` read; a second read of one deployed workflow's starts the watch that spares the reads after it. */
  private async readLatest(id: string): Promise<string | null> {
    const version = await this.getText(`wf.${id}.latest`);
    if (version === null) return null;
    if (this.latestRead.has(id)) this.latest.start();
    else if (this.latestRead.size < KEPT_VERSIONS) this.latestRead.add(id);
    return version;
  }

  /** Ends the watch of the latest versions (the connection is closing). */
  close(): void {
    this.latest.stop();
  }

  /** A version's hash (null: not deployed), kept: its key is created once and never written again. */
  private async versionHash(id: string, version: string | number): Promise<string | null> {
    const ref = `${id}@${version}`;
    const hash = this.versions.get(ref) ?? (await this.getText(`wf.${id}.${version}`));
    if (hash) this.versions.set(ref, hash); // a key set again keeps its place in the map's order
    trimOldest(this.versions, KEPT_VERSIONS);
    return hash;
  }

  /** The YAML `workflowId@version` was deployed from, or null when it was deployed as an object (or before texts were kept). */
  async text(id: string, version: number): Promise<string | null> {
    const hash = await this.versionHash(token(id), version);
    if (!hash) return null;
    const known = this.texts.get(hash);
    if (known !== undefined) return known;
    // None kept is not remembered: a later deploy of the same content with its text keeps one.
    const text = await this.getText(`src.${hash}`, MAX_DEFINITION_BYTES);
    if (text === null) return null;
    this.texts.set(hash, text);
    trimOldest(this.texts, KEPT_BODIES);
    return text;
  }

  /**
   * The bucket's last revision: every deploy moves it (nothing else writes there), so a list of
   * definitions read when it stood at N is still the list while it is N (trigger-events.ts).
   */
  async revision(): Promise<number> {
    return (await (await this.kv()).status()).streamInfo.state.last_seq;
  }

  /**
   * The bucket's keys matching `filter` (a key is never deleted here), read from the stream's subjects in one request.
   * Not the client's `kv.keys()`: that leaves an ephemeral consumer on the server for its five-minute inactivity
   * threshold, one per call, and engines list the workflows at every schedule tick and sweep.
   */
  async keys(filter: string): Promise<string[]> {
    // Made once: a manager checks the JetStream API with a request of its own when it is made.
    this.jsmPromise ??= this.js.jetstreamManager();
    const jsm = await this.jsmPromise;
    const prefix = `$KV.${DEFINITIONS_BUCKET}.`;
    const info = await jsm.streams.info(`KV_${DEFINITIONS_BUCKET}`, { subjects_filter: `${prefix}${filter}` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  }

  /** The latest version of every deployed workflow (for triggers). */
  async latestAll(): Promise<Definition[]> {
    await this.kv();
    const ids = (await this.keys('wf.*.latest')).map((key) => key.split('.')[1]!);
    return Promise.all(ids.sort().map((id) => this.resolve(id)));
  }
}
