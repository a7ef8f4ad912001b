/**
 * The definitions the dashboard shows: each YAML file of a folder parsed on its own (a broken file is listed with its
 * problems, the others still load), plus the versions seen only in runs' run.started. Also the diff between two
 * versions (the `diff` library) and the replay verdict.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { readDefinitionSource } from '../files/index.js';
import { parseDefinition, type Definition } from '../definition/index.js';
import { Engine } from '../local/index.js';
import type { RunIndex } from '../query/index.js';
import type { EventStore } from '../store/index.js';
import type { DefinitionVersion } from './backend.js';
import { ApiError } from './errors.js';
import { recordedDefinitionOf } from '../events/index.js';
import { latestWorkflow } from '../runtime/index.js';

/** Every .yaml/.yml file of `dir`, each parsed alone. */
export function definitionsInFolder(dir: string): DefinitionVersion[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  const out: DefinitionVersion[] = [];
  for (const name of readdirSync(root)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const file = join(root, name);
    const read = readDefinitionSource(file);
    // A file over the size limit is listed with that one problem, unread.
    if ('refused' in read) {
      out.push({
        id: name.replace(/\.ya?ml$/, ''),
        version: 0,
        source: 'file',
        file,
        yaml: '',
        definition: null,
        problems: [read.refused],
      });
      continue;
    }
    const yaml = read.text;
    const { definition, diagnostics } = parseDefinition(yaml, file);
    // A file too broken to name its workflow is listed under its file name.
    const id = definition?.id ?? /^\s*id:\s*["']?([\w.-]+)/m.exec(yaml)?.[1] ?? name.replace(/\.ya?ml$/, '');
    const version = definition?.version ?? Number(/^\s*version:\s*(\d+)/m.exec(yaml)?.[1] ?? 0);
    out.push({ id, version, source: 'file', file, yaml, definition, problems: diagnostics });
  }
  return out;
}

/**
 * `known` with the (workflow, version) pairs recorded in runs that it does not hold, each with the definition its
 * run.started recorded (the pairs from the run index, then one run.started read per pair), by id and newest first.
 */
export async function withRecorded(
  store: EventStore,
  runs: RunIndex,
  known: DefinitionVersion[],
): Promise<DefinitionVersion[]> {
  const have = new Set(known.map((d) => `${d.id}@${d.version}`));
  const out = [...known];
  for (const { runId, version } of (await runs.versions()).filter((v) => !have.has(`${v.workflowId}@${v.version}`))) {
    const first = (await store.read(runId, { toSeq: 1 }))[0];
    if (first?.type !== 'run.started') continue;
    // A run migrated to this version (docs/runs.md#migrating-in-flight-runs) records it in its run.migrated.
    const recorded = recordedDefinitionOf(first.data);
    const definition = recorded.version === version ? recorded : latestWorkflow(await store.read(runId)).definition;
    out.push({
      id: definition.id,
      version: definition.version,
      source: 'runs',
      yaml: stringify(definition),
      definition,
      problems: [],
    });
  }
  return byIdAndVersion(out);
}

/** The definitions of those that validate. */
export const validOf = (all: DefinitionVersion[]): Definition[] =>
  all.flatMap((d) => (d.definition ? [d.definition] : []));

export function byIdAndVersion(all: DefinitionVersion[]): DefinitionVersion[] {
  return [...all].sort((a, b) => a.id.localeCompare(b.id) || b.version - a.version);
}

/** The valid version `version` (else the newest) of `id`: a 404 when none (looked for `where`), a 400 naming `field`. */
export function validVersion(all: DefinitionVersion[], id: string, v: number | undefined, field: string, where = '') {
  const valid = byIdAndVersion(all.filter((d) => d.id === id && d.definition !== null));
  if (valid.length === 0)
    throw new ApiError(404, 'LF_DEFINITION_NOT_FOUND', `no workflow ${id} with a valid definition${where}`);
  const pick = v === undefined ? valid[0] : valid.find((d) => d.version === v);
  if (pick) return { ...pick, definition: pick.definition as Definition };
  const known = valid.map((d) => d.version).join(', ');
  throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: workflow ${id} has no version ${v} (known: ${known})`, {
    field,
  });
}

/** One workflow's versions, newest first; 404 when none is known. */
export function versionsOf(all: DefinitionVersion[], id: string): DefinitionVersion[] {
  const mine = byIdAndVersion(all.filter((d) => d.id === id));
  if (mine.length === 0)
    throw new ApiError(
      404,
      'LF_DEFINITION_NOT_FOUND',
      `no workflow ${id} is known here (definitions folder, deployed registry or runs)`,
    );
  return mine;
}

function pick(versions: DefinitionVersion[], raw: string | undefined, field: string): DefinitionVersion {
  if (raw === undefined)
    throw new ApiError(400, 'LF_INPUT_INVALID', `${field}: a version number is required`, { field });
  const v = Number(raw);
  const found = versions.find((d) => d.version === v);
  if (!Number.isInteger(v) || !found) {
    throw new ApiError(
      400,
      'LF_INPUT_INVALID',
      `${field}: workflow ${versions[0]!.id} has no version ${raw} (known: ${versions.map((d) => d.version).join(', ')})`,
      { field },
    );
  }
  return found;
}

/**
 * A unified diff of the YAML of two versions. Two files are compared as written; otherwise (a version kept only in
 * runs, or deployed, is the parsed definition rendered to YAML) both sides are rendered from their parsed definitions
 * (`normalised`), so the diff shows what changed, not two unrelated texts.
 */
export function diffVersions(
  versions: DefinitionVersion[],
  from: string | undefined,
  to: string | undefined,
): { from: number; to: number; patch: string; normalised?: true } {
  const a = pick(versions, from, 'from');
  const b = pick(versions, to, 'to');
  // One text a file's (or a deployed version's kept text) and the other a rendering: both as recorded.
  const normalised =
    (a.source !== b.source || !a.deployedText !== !b.deployedText) && a.definition !== null && b.definition !== null;
  const text = (d: DefinitionVersion) => (normalised ? stringify(d.definition) : d.yaml);
  return {
    from: a.version,
    to: b.version,
    patch: createTwoFilesPatch(`${a.id}@${a.version}`, `${b.id}@${b.version}`, text(a), text(b)),
    ...(normalised ? { normalised: true as const } : {}),
  };
}

/**
 * What `replay --all --definition <version>` says: whether that version could take over each run of its workflow
 * (Engine.replayAll with candidate).
 */
export async function replayVerdict(
  store: EventStore,
  versions: DefinitionVersion[],
  version: string | undefined,
): Promise<{
  workflowId: string;
  version: number;
  runs: number;
  compatible: number;
  incompatible: { runId: string; version: number; divergence: unknown }[];
}> {
  const cand = pick(versions, version, 'version');
  if (!cand.definition)
    throw new ApiError(
      400,
      'LF_DEFINITION_INVALID',
      `version: ${cand.id}@${cand.version} does not validate (see its problems)`,
      { field: 'version' },
    );
  const engine = new Engine({ store });
  let runs = 0;
  let compatible = 0;
  const incompatible: { runId: string; version: number; divergence: unknown }[] = [];
  for await (const report of engine.replayAll({
    workflowId: cand.id,
    candidate: cand.definition,
    onCorrupt: () => undefined,
  })) {
    runs++;
    if (report.candidate?.compatible ?? true) compatible++;
    else
      incompatible.push({
        runId: report.runId,
        version: report.view.version,
        divergence: report.candidate?.divergence ?? null,
      });
  }
  return { workflowId: cand.id, version: cand.version, runs, compatible, incompatible };
}
