/**
 * The state hash every event records (fold.ts recordedState), in the two formats a log may hold. Logs record it and
 * checked replay recomputes it, so neither format may ever change; which one a run uses is recorded in its run.started
 * (`stateHashVersion`, kept in the fold's context): absent is format 1, every run started before 2026-11-23; 2 is every
 * run started since.
 *
 * Format 1: the first 16 hex digits of sha256 over `JSON.stringify({ value, tasks: [[id, status, attempts, case]...],
 * timers: [[id, dueAt]...] })` (tasks and timers sorted by id; stateText writes it). One sha256 over the whole state,
 * which cannot be updated for a change in the middle of a text: a long run pays for its whole text on every event
 * (docs/architecture-notes.md, "Long runs and the state hash").
 *
 * Format 2 (stateHashV2): the same parts, each long list replaced by the digests of its chunks of V2_CHUNK entries, so
 * an event re-hashes only the chunks it changed plus one short line of digests:
 *
 *   sha256(`{"v":2,"value":V,"tasks":[T],"timers":[timers as in format 1]}`), first 16 hex digits
 *   V = the value as in format 1 for a settled run (a quoted name); for an active
 *       one `{"<parallel state>":["d",...]}`, d = the first 16 hex digits of
 *       sha256 over a chunk of its `"<region>":"<state>"` entries (document
 *       order, joined by commas)
 *   T = `"d",...`, d = the first 16 hex digits of sha256 over a chunk of the
 *       format-1 task entries `[id,status,attempts,case(,iteration)(,[items])]`
 *       (id order, joined by commas)
 *
 * A chunk is V2_CHUNK consecutive entries (the last may be shorter). The chunks are those of the fold's persistent
 * vectors (persistent-vector.ts, task-table.ts), whose chunks are immutable and shared between snapshots: each chunk
 * carries its digest, and each version of a vector its line of digests (chunk-hash.ts), so a state's hash is derived
 * from its chunks'.
 */
import { sha256, sha256Hex } from '../digest/index.js';
import type { FoldSnapshot as RunSnapshot, RegionState, Shape, TaskState } from '../compiler/index.js';
import { ITEM_CHUNK, tableOf, valueChunks, VECTOR_CHUNK } from '../compiler/index.js';
import { chunkHashes, digestLine, quotedDigest, type EntryWriter } from './chunk-hash.js';
import {
  quoted,
  rememberedDigest,
  rememberedItemChunkDigest,
  rememberedStateHash,
  rememberedStateHashV2,
  sortedIds,
} from './state-hash-cache.js';

/**
 * The format new runs record in run.started (executor/start-commit.ts), and the coverage model folds with: 2 since
 * 2026-11-23. An engine older than that cannot check such a run's replay (docs/architecture-notes.md, "Long runs and
 * the state hash").
 */
export const NEW_RUN_STATE_HASH_VERSION = 2;

/** The state hash of the format the run records. */
export function stateHashOf(snapshot: RunSnapshot): string {
  return snapshot.context.stateHashVersion === 2 ? stateHashV2(snapshot) : stateHashV1(snapshot);
}

function stateHashV1(snapshot: RunSnapshot): string {
  // A long run (its tasks in a table) is hashed by chunks; its states hardly ever recur, so the trie of remembered hashes is no help.
  const tasks = tableOf(snapshot.context.tasks);
  const value = tasks ? valueChunks(snapshot) : null;
  return tasks && value ? chunkedStateHash(snapshot, value, tasks) : rememberedStateHash(snapshot, stateHash);
}

/** Entries per chunk in format 2. Part of the format: never change it (the fold's vectors' CHUNK may differ; then they are re-chunked). */
const V2_CHUNK = 64;

function stateHashV2(snapshot: RunSnapshot): string {
  // A short run's state without timers: remembered in a trie walked by its parts (state-hash-cache.ts), which writes
  // no text; else each chunk of regions carries its digest, and a short run's few task entries are written afresh.
  return rememberedStateHashV2(snapshot, v2Hash);
}

const V2_HEAD = '{"v":2,"value":';
const V2_TASKS = ',"tasks":[';

function v2Hash(snapshot: RunSnapshot): string {
  const value = valueChunks(snapshot);
  const valueLine = value !== null && v2Chunked(value.states.chunks) ? digestLine(value.states, REGION_ENTRIES) : null;
  const valueText = valueLine !== null ? `{${quoted(value!.parallelKey)}:[${valueLine.text}]}` : v2ValueText(snapshot);
  const table = tableOf(snapshot.context.tasks);
  const tasksLine =
    table !== null && v2Chunked(table.states.chunks) ? digestLine(table.states, new TaskEntries(table.shape)) : null;
  const timers = timersText(snapshot.context.timers);
  const text = `${V2_HEAD}${valueText}${V2_TASKS}${tasksLine !== null ? tasksLine.text : v2TasksText(snapshot)}],"timers":[${timers}]}`;
  // A short run's state without timers recurs in every run of its definition (a timer's due time is its run's own):
  // remembered by its text. A long run's (more than one chunk of tasks or regions) never comes back within the run:
  // remembering its texts only churned that memory (a 3,000-task chain's events 2.5× as dear, bench `chain`).
  const short =
    (table === null || table.states.chunks.length <= 1) && (value === null || value.states.chunks.length <= 1);
  const hash = timers === '' && short ? rememberedDigest(text, shortDigest) : shortDigest(text);
  // Hashing flattened `text` into one string, but not the lines in it: the next state's line, spliced from a line
  // still in pieces, would copy it again. Each line is taken back as a slice of the hashed text instead.
  valueLine?.flattenFrom(text, V2_HEAD.length + valueText.length - 2 - valueLine.text.length);
  tasksLine?.flattenFrom(text, V2_HEAD.length + valueText.length + V2_TASKS.length);
  return hash;
}

/** Format 2's digest of a text: the first 16 hex digits of its sha256. */
const shortDigest = (text: string): string => sha256Hex(text).slice(0, 16);
/** A short run's chunk of entries recurs in every run of its definition: its digest is remembered by its text. */
const chunkDigest = (text: string): string => rememberedDigest(text, quotedDigest);

/**
 * A task table's entries (both formats): format 1's task entries, the id from the table's shape, which is what the
 * texts its chunks carry are for. A class, so that the one made per event allocates no closures.
 */
class TaskEntries implements EntryWriter<TaskState> {
  readonly owner: Shape;
  private readonly quotedIds: readonly string[];
  constructor(shape: Shape) {
    this.owner = shape;
    this.quotedIds = shape.quoted;
  }
  entry(t: TaskState, i: number): string {
    return quotedTaskText(this.quotedIds[i]!, t);
  }
}

/**
 * Whether a persistent vector's chunks are format 2's: every chunk but the last holds V2_CHUNK items. A vector's
 * chunks all hold its CHUNK but the last (persistent-vector.ts), so with the same size that is known without
 * reading each chunk (in a long run, dozens of cold reads per event).
 */
function v2Chunked(chunks: readonly (readonly unknown[])[]): boolean {
  if (VECTOR_CHUNK === V2_CHUNK) return true;
  for (let c = 0; c < chunks.length - 1; c++) if (chunks[c]!.length !== V2_CHUNK) return false;
  return chunks.length === 0 || chunks[chunks.length - 1]!.length <= V2_CHUNK;
}

/**
 * Regions' entries (both formats): `"<region>":"<state>"`, as the chart wrote it once per state (chart.ts
 * RegionState.json), so the text depends on the state object alone.
 */
const REGION_ENTRIES: EntryWriter<RegionState> = { owner: {}, entry: (s) => s.json };

/** The value's text for a snapshot whose regions are not in a vector of V2_CHUNK chunks (settled, or not the interpreter's): from the value itself. */
function v2ValueText(snapshot: RunSnapshot): string {
  const v = snapshot.value;
  if (typeof v === 'string') return quoted(v);
  let text = '{';
  let first = true;
  for (const key in v) {
    const regions = v[key]!;
    let digests = '';
    let entries = '';
    let n = 0;
    for (const region in regions) {
      entries += `${n > 0 ? ',' : ''}${quoted(region)}:${valueText(regions[region])}`;
      if (++n === V2_CHUNK) {
        digests += `${digests ? ',' : ''}${chunkDigest(entries)}`;
        entries = '';
        n = 0;
      }
    }
    if (n > 0) digests += `${digests ? ',' : ''}${chunkDigest(entries)}`;
    text += `${first ? '' : ','}${quoted(key)}:[${digests}]`;
    first = false;
  }
  return `${text}}`;
}

/** The tasks' digests for a record that is not a table of V2_CHUNK chunks (a short run's). */
function v2TasksText(snapshot: RunSnapshot): string {
  const tasks = snapshot.context.tasks;
  let text = '';
  const ids = sortedIds(tasks);
  for (let start = 0; start < ids.length; start += V2_CHUNK) {
    let entries = '';
    const end = Math.min(ids.length, start + V2_CHUNK);
    for (let i = start; i < end; i++) entries += `${i > start ? ',' : ''}${taskText(ids[i]!, tasks[ids[i]!]!)}`;
    text += `${start > 0 ? ',' : ''}${chunkDigest(entries)}`;
  }
  return text;
}

/** Format 1, from the whole text. */
function stateHash(snapshot: RunSnapshot): string {
  return sha256Hex(stateText(snapshot)).slice(0, 16);
}

/**
 * The hash of a long run's state: the same text as stateText, hashed chunk by chunk, each chunk's text the one it
 * carries (chunk-hash.ts), written when the chunk was first hashed. Writing the whole text per event made a long run
 * quadratic in garbage; hashing it is still linear per event, at sha256's speed (a 10,000-task state is about 450 KB).
 */
function chunkedStateHash(
  snapshot: RunSnapshot,
  value: NonNullable<ReturnType<typeof valueChunks>>,
  tasks: NonNullable<ReturnType<typeof tableOf>>,
): string {
  const h = sha256();
  h.update(`{"value":{${quoted(value.parallelKey)}:{`);
  const regions = chunkHashes(value.states, REGION_ENTRIES);
  for (let c = 0; c < regions.length; c++) {
    if (c > 0) h.update(',');
    h.update(regions[c]!.text);
  }
  h.update('}},"tasks":[');
  const chunks = chunkHashes(tasks.states, new TaskEntries(tasks.shape));
  for (let c = 0; c < chunks.length; c++) {
    if (c > 0) h.update(',');
    h.update(chunks[c]!.text);
  }
  h.update(`],"timers":[${timersText(snapshot.context.timers)}]}`);
  return h.hex().slice(0, 16);
}

/** One task's entry in the state text: `[id, status, attempts, decision case]`, and its loop iteration when it has one (never in an old state). */
function taskText(id: string, t: TaskState): string {
  return quotedTaskText(quoted(id), t);
}

/** taskText with the id already written as JSON (a table's shape has every id's: task-table.ts). */
function quotedTaskText(quotedId: string, t: TaskState): string {
  const decision = t.decision?.case;
  const iteration = t.iteration === undefined ? '' : `,${t.iteration}`;
  const items = t.items === undefined ? '' : `,[${itemsText(t.items)}]`;
  return `[${quotedId},${quoted(t.status)},${t.attempts},${decision === undefined || decision === null ? 'null' : JSON.stringify(decision)}${iteration}${items}]`;
}

/**
 * A MAP's items in the state text: per chunk of ITEM_CHUNK items, the first 16 hex digits of sha256
 * over the chunk's `[status,attempts],...`, quoted, comma-separated. Hashing every item's text per
 * event made a 1,000-item MAP's checked replay spend most of its time in sha256; an event changes one
 * item, so every other chunk's digest is the list's before it: kept with the list and carried to the
 * next (compiler/item-list.ts itemChunkDerived), without looking at those chunks' items again.
 */
function itemsText(items: NonNullable<TaskState['items']>): string {
  let text = '';
  for (let start = 0; start < items.length; start += ITEM_CHUNK) {
    const end = Math.min(items.length, start + ITEM_CHUNK);
    const digest = rememberedItemChunkDigest(items, start, () => {
      let chunk = '';
      for (let i = start; i < end; i++)
        chunk += `${i > start ? ',' : ''}[${quoted(items[i]!.status)},${items[i]!.attempts}]`;
      return sha256Hex(chunk).slice(0, 16);
    });
    text += `${start > 0 ? ',' : ''}"${digest}"`;
  }
  return text;
}

/** The armed timers in the state text, sorted by id: `[id, dueAt],...`. */
function timersText(timers: RunSnapshot['context']['timers']): string {
  let ids: string[] | null = null; // mostly none: no array then
  for (const id in timers) (ids ??= []).push(id);
  if (!ids) return '';
  ids.sort();
  let text = '';
  for (let i = 0; i < ids.length; i++)
    text += `${i > 0 ? ',' : ''}[${JSON.stringify(ids[i])},${JSON.stringify(timers[ids[i]!]!.dueAt)}]`;
  return text;
}

/** The text the state hash is taken of (see recordedState), written directly: building the arrays and objects first cost more than hashing. */
function stateText(snapshot: RunSnapshot): string {
  const ctx = snapshot.context;
  let text = `{"value":${valueText(snapshot.value)},"tasks":[`;
  const ids = sortedIds(ctx.tasks);
  for (let i = 0; i < ids.length; i++) text += `${i > 0 ? ',' : ''}${taskText(ids[i]!, ctx.tasks[ids[i]!]!)}`;
  return `${text}],"timers":[${timersText(ctx.timers)}]}`;
}

/** JSON.stringify of a state value (nested objects of state names), from quoted names. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  let text = '{';
  let first = true;
  for (const key in value as Record<string, unknown>) {
    text += `${first ? '' : ','}${quoted(key)}:${valueText((value as Record<string, unknown>)[key])}`;
    first = false;
  }
  return `${text}}`;
}
