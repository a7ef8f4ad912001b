/**
 * One check of a new version, all four sections in order (what changed, what it does to runs, what is newly untested,
 * the properties), made into one report. The caller (the CLI) chose the versions and the store; a section never knows
 * the others nor the formats.
 */
import type { TaskMap } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { diffDefinitions, type CheckedDefinition } from './diff.js';
import type { Finding } from './findings.js';
import { propertyFindings } from './properties.js';
import { checkReport, type CheckedVersion, type CheckReport, type SectionReport } from './report.js';
import { runFindings } from './runs.js';
import { untestedFindings } from './untested.js';

export interface GateInput {
  after: CheckedDefinition;
  before: CheckedDefinition | null;
  /** The workflows that start this one (its parents, read from the new file's folder); absent: no folder was read. */
  parents?: CheckedDefinition[];
  versions: { new: CheckedVersion; against: CheckedVersion | null };
  /** The store of the runs; null when there is none to read (an embedded store never written here: a CI checkout). */
  store: EventStore | null;
  map: TaskMap;
  history: number;
  strict: boolean;
  warn(message: string): void;
}

type Section = Omit<SectionReport, 'title' | 'ok'>;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const tally = (fs: readonly Finding[]) =>
  `${plural(fs.filter((f) => f.level === 'error').length, 'error')}, ${plural(fs.filter((f) => f.level === 'warning').length, 'warning')}`;

function changeSection(i: GateInput): Section {
  if (!i.before)
    return { section: 'change', summary: 'first version: nothing to compare with', findings: [], passed: [] };
  const findings = diffDefinitions(i.before, i.after, i.parents ? { parents: i.parents } : {});
  const versions = `v${i.before.definition.version} → v${i.after.definition.version}`;
  return {
    section: 'change',
    summary: `${versions}: ${findings.length === 0 ? 'nothing found' : tally(findings)}`,
    findings,
    passed: [],
  };
}

async function runsSection(i: GateInput): Promise<Section> {
  if (!i.store) return { section: 'runs', summary: 'no store here: no run to judge', findings: [], passed: [] };
  const {
    findings,
    summary: s,
    judged,
  } = await runFindings({
    store: i.store,
    after: i.after,
    map: i.map,
    history: i.history,
    warn: i.warn,
  });
  const already = s.already > 0 ? `, ${s.already} already on it` : '';
  const history =
    i.history > 0 ? `; ${plural(s.settled, 'settled run')} replayed: ${s.settledDiverge} part from their history` : '';
  return {
    section: 'runs',
    summary: `${plural(s.unsettled, 'unsettled run')}: ${s.asIs} take over as is, ${s.withMap} with the task map, ${s.cannot} cannot${already}${history}${s.unjudged > 0 ? `; ${s.unjudged} judged only up to where their course turned on sealed values (no data key)` : ''}`,
    findings,
    passed: judged.filter((j) => j.ok).map((j) => `run ${j.runId}`),
  };
}

async function untestedSection(i: GateInput): Promise<Section> {
  const { findings, summary: s, judged } = await untestedFindings(i.after, i.before);
  const asBefore = s.untested - s.newlyUntested > 0 ? `, ${s.untested - s.newlyUntested} untested as before` : '';
  const source = s.expectationsFile
    ? `${plural(s.expectations, 'expectation')} in ${s.expectationsFile}`
    : 'no expectations file';
  return {
    section: 'untested',
    summary: `${plural(s.paths, 'path')}, ${source}: ${s.tested} tested, ${s.newlyUntested} newly untested${asBefore}`,
    findings,
    passed: judged.filter((j) => j.ok).map((j) => `path ${j.name}`),
  };
}

/** A property is told apart by its rule and the task it is about: the message and the path may change with the version. */
const propertyKey = (f: Finding) => `${f.rule}\u0000${f.task ?? ''}`;

/**
 * The properties of the new version. One the old version broke too is a warning, not an error: the gate blocks what a
 * change breaks, and a team adopting it is not stopped on every change by what was broken before (verify lists those).
 */
function propertiesSection(i: GateInput): Section {
  const before = new Set(i.before ? propertyFindings(i.before).map(propertyKey) : []);
  const findings = propertyFindings(i.after).map(
    (f): Finding =>
      before.has(propertyKey(f))
        ? { ...f, level: 'warning', message: `${f.message} (broken before this change too)` }
        : f,
  );
  const old = findings.filter((f) => before.has(propertyKey(f))).length;
  return {
    section: 'properties',
    summary:
      findings.length === 0
        ? 'every property holds'
        : `${tally(findings)}${old > 0 ? ` (${plural(old, 'property', 'properties')} broken before this change too)` : ''}`,
    findings,
    passed: [],
  };
}

export async function runGate(i: GateInput): Promise<CheckReport> {
  const sections = [changeSection(i), await runsSection(i), await untestedSection(i), propertiesSection(i)];
  return checkReport(
    { workflowId: i.after.definition.id, new: i.versions.new, against: i.versions.against, strict: i.strict },
    sections,
  );
}
