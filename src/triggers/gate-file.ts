/**
 * The embedded store's trigger gates (gates.ts): `<store>/triggers/gates.json` holds every gate's entry with its
 * revision; `<store>/triggers/decisions.jsonl` is the decision log. Several processes write them (each `ledgerflow
 * emit` when an event arrives, the active `serve` every tick), so every write is a read-modify-write under one lock
 * file (`gates.lock`, broken when its holder is dead, as the store's run locks are), saved to a temporary file, synced,
 * and renamed over the old one: a `kill -9` leaves the old file or the new one. Read with zod at the boundary: a file
 * that does not parse is refused with its path, not reset (that would lose the events waiting in it).
 */
import { appendFile, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { unlessMissing, withLock, writeSynced } from '../store/index.js';
import { parseJsonFile } from './json-file.js';
import { GateRecordSchema, GateStateSchema, type GateRecord, type GateState } from './gate.js';
import { TriggerGates, type GateLog, type GateStore } from './gates.js';
import type { LoadedDefinition } from '../files/index.js';
import type { Engine } from '../local/index.js';
import { AppendConflictError } from '../errors/index.js';

const FileSchema = z.object({
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  gates: z.record(z.string(), z.object({ revision: z.number().int().positive(), state: GateStateSchema })),
});
type GatesFile = z.infer<typeof FileSchema>;

function gatesDir(storeDir: string): string {
  return join(storeDir, 'triggers');
}

const LOCK = { timeoutMs: 30_000, staleMs: 30_000 };

class FileGateStore implements GateStore {
  readonly file: string;
  private readonly lock: string;
  private readonly dir: string;
  constructor(storeDir: string) {
    this.dir = gatesDir(storeDir);
    this.file = join(gatesDir(storeDir), 'gates.json');
    this.lock = join(gatesDir(storeDir), 'gates.lock');
  }

  private async load(): Promise<GatesFile> {
    const text = await unlessMissing(readFile(this.file, 'utf8'));
    if (text === null) return { version: 1, revision: 0, gates: {} };
    return parseJsonFile(
      this.file,
      text,
      FileSchema,
      'LF_GATES_FILE',
      'a trigger gates file',
      'restore it, or move it aside to forget the debounced and queued events it holds',
    );
  }

  private async save(data: GatesFile): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeSynced(tmp, `${JSON.stringify(data)}\n`);
    await rename(tmp, this.file);
  }

  async keys(): Promise<string[]> {
    return Object.keys((await this.load()).gates);
  }

  async get(key: string): Promise<{ state: GateState; revision: number } | null> {
    return (await this.load()).gates[key] ?? null;
  }

  async put(key: string, state: GateState | null, revision: number | null): Promise<number | null> {
    await mkdir(this.dir, { recursive: true });
    return withLock(this.lock, LOCK, async () => {
      const data = await this.load();
      const current = data.gates[key];
      if ((current?.revision ?? null) !== revision) return null;
      const next = data.revision + 1;
      const gates = { ...data.gates };
      if (state === null) delete gates[key];
      else gates[key] = { revision: next, state };
      await this.save({ version: 1, revision: next, gates });
      return next;
    });
  }
}

class FileGateLog implements GateLog {
  readonly file: string;
  private readonly dir: string;
  constructor(storeDir: string) {
    this.dir = gatesDir(storeDir);
    this.file = join(this.dir, 'decisions.jsonl');
  }

  async write(records: readonly GateRecord[]): Promise<void> {
    if (records.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    // One write with O_APPEND: lines of two writers never interleave.
    await appendFile(this.file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  async list(filter: { workflowId?: string; limit?: number } = {}): Promise<GateRecord[]> {
    const text = await unlessMissing(readFile(this.file, 'utf8'));
    if (text === null) return [];
    const seen = new Set<string>();
    const out: GateRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed;
      try {
        parsed = GateRecordSchema.safeParse(JSON.parse(line));
      } catch {
        continue; // a torn last line (a writer killed mid-write) is not a record
      }
      if (!parsed.success || seen.has(parsed.data.id)) continue;
      seen.add(parsed.data.id);
      if (filter.workflowId !== undefined && parsed.data.workflowId !== filter.workflowId) continue;
      out.push(parsed.data);
    }
    return filter.limit !== undefined ? out.slice(-filter.limit) : out;
  }
}

/** The embedded store's gate state and decision log, under `<storeDir>/triggers/`. */
export function fileGates(storeDir: string): { store: FileGateStore; log: FileGateLog } {
  return { store: new FileGateStore(storeDir), log: new FileGateLog(storeDir) };
}

/**
 * The gates `ledgerflow serve` ticks: the runs they start are recorded on `engine`'s store with their definition's file
 * and handler module in run.started (as `emit` records them) and driven by the service's scan.
 */
export function embeddedGates(opts: {
  storeDir: string;
  engine: Engine;
  definitions: () => readonly LoadedDefinition[];
  now?: () => number;
}): TriggerGates {
  const { store, log } = fileGates(opts.storeDir);
  return new TriggerGates({
    store,
    log,
    now: opts.now ?? Date.now,
    definitions: () => opts.definitions().map((l) => l.definition),
    start: async (s) => {
      const l = opts.definitions().find((x) => x.definition === s.definition);
      if ((await opts.engine.store.lastSeq(s.runId)) > 0) return { duplicate: true };
      try {
        await opts.engine.start(s.definition, s.input, {
          runId: s.runId,
          source: {
            ...(l ? { file: l.file } : {}),
            ...(l?.handlersPath ? { handlers: l.handlersPath } : {}),
            ...s.source,
          },
        });
        return { duplicate: false };
      } catch (err) {
        if (err instanceof AppendConflictError) return { duplicate: true };
        throw err;
      }
    },
  });
}
