/**
 * EventStore.updateShared on the file store and in memory: a small JSON document changed with no other writer in
 * between. The file store's is `<dir>/gates/<name>.json`, read and replaced (write to a temporary file, rename) under
 * the store's lock of that name, so every process on the store (run, resume, serve, ui) sees one sequence of changes; a
 * process that dies mid-change leaves the old document or the new one, never half of either. A change is durable before
 * it returns (the new file synced before the rename, the folder after it), as an append is: a document that went back
 * to an older version after a power cut could let a task gate or an admission slot document (limits/admission-slots.ts)
 * count too few holders against logs that kept their events.
 */
import { statSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, errorMessage } from '../errors/index.js';
import { isRunId } from './common.js';
import { syncDir, unlessMissing, writeSynced } from './durable-fs.js';

export async function updateSharedFile<T>(
  dir: string,
  exclusive: <R>(name: string, fn: () => Promise<R>) => Promise<R>,
  name: string,
  fn: (doc: unknown) => { doc: unknown; result: T },
): Promise<T> {
  if (!isRunId(name)) throw new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name });
  const gates = join(dir, 'gates');
  await mkdir(gates, { recursive: true });
  const file = join(gates, `${name}.json`);
  return exclusive(`shared-${name}`.slice(0, 128), async () => {
    let doc: unknown = null;
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      // Missing: none yet. Unreadable (hand-edited, a disk fault): started afresh rather than the gate stuck for good.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    const r = fn(doc);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeSynced(tmp, JSON.stringify(r.doc));
    await rename(tmp, file);
    await syncDir(gates);
    return r.result;
  });
}

/** The document as last written (null when none): a rename replaces it whole, so no lock is needed to read it. */
export async function readSharedFile(dir: string, name: string): Promise<unknown> {
  if (!isRunId(name)) throw new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name });
  const file = join(dir, 'gates', `${name}.json`);
  // Most stores have no such document (no limits set): every start asks for the limits, and a stat that says
  // so costs no failed open and no error object (a document made meanwhile is read by the next ask).
  if (!statSync(file, { throwIfNoEntry: false })) return null;
  const text = await unlessMissing(readFile(file, 'utf8'));
  return text === null ? null : parseSharedDoc(text, name, file);
}

/**
 * A shared document's JSON. One that does not parse (edited by hand, a disk fault) is an error naming
 * it, not "no document": read as none, the limits it holds would silently stop applying.
 */
export function parseSharedDoc(text: string, name: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreError(
      `shared document ${name} (${where}) is not JSON (${errorMessage(err)}); write it again${name === 'limits' ? ' with `ledgerflow limits set <file>`' : ''}`,
      { name, where },
      { cause: err },
      'LF_SHARED_DOC_CORRUPT',
    );
  }
}

/** The memory store's: one process, so a map and a chain per name suffice. */
export class SharedDocs {
  private readonly docs = new Map<string, unknown>();
  private readonly chains = new Map<string, Promise<unknown>>();

  read(name: string): Promise<unknown> {
    if (!isRunId(name))
      return Promise.reject(new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name }));
    const doc = this.docs.get(name);
    // Most stores have no such document (no limits, no agent queues), and every start asks: no clone of null then.
    return Promise.resolve(doc === undefined || doc === null ? null : structuredClone(doc));
  }

  update<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    if (!isRunId(name))
      return Promise.reject(new StoreError(`invalid shared document name ${JSON.stringify(name)}`, { name }));
    const run = async () => {
      // A copy in and out: the caller may change what it is given.
      const r = fn(structuredClone(this.docs.get(name) ?? null));
      this.docs.set(name, structuredClone(r.doc));
      return r.result;
    };
    const next = (this.chains.get(name) ?? Promise.resolve()).then(run, run);
    this.chains.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }
}
