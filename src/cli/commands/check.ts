/**
 * `ledgerflow check <new.yaml> [--against <old.yaml>]`, the deploy gate (docs/check.md): the new version of a workflow
 * judged against the one it replaces — what changed, what it does to the runs that exist, what is newly untested, the
 * properties — as text, JSON, SARIF or JUnit. Exit 0 safe, 1 unsafe, 2 usage. This file chooses the versions and the
 * store; src/check/ does the judging and the formats.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { z } from 'zod';
import {
  junitReport,
  parentsIn,
  runGate,
  sarifReport,
  textReport,
  type CheckedDefinition,
  type CheckedVersion,
  type CheckReport,
} from '../../check/index.js';
import { workflowOf } from '../../compiler/index.js';
import { LedgerflowError, UsageError, errorMessage } from '../../errors/index.js';
import { checkTaskMap } from '../../executor/index.js';
import { loadDefinitionFile } from '../../files/index.js';
import { packageVersion } from '../../install/index.js';
import { inert } from '../../terminal/index.js';
import { localDir, usesNats, type GlobalOpts } from '../flags/store.js';
import { storeFor } from '../open-store.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { sideFor } from '../runs.js';
import { findDefinition } from '../store-side.js';
import { parseTaskMap } from './migrate.js';

const FORMATS = ['text', 'json', 'sarif', 'junit'] as const;

const CheckOptsSchema = z.strictObject({
  against: z.string().min(1).optional(),
  format: z.enum(FORMATS, { message: `--format is one of ${FORMATS.join(', ')}` }).optional(),
  json: z.boolean().optional(),
  output: z.string().min(1).optional(),
  history: z.coerce
    .number({ message: '--history is a number of settled runs, e.g. --history 20' })
    .int('--history is a whole number of settled runs, e.g. --history 20')
    .min(0, '--history is 0 or more')
    .optional(),
  map: z.array(z.string()).optional(),
  strict: z.boolean().optional(),
});
export type CheckOpts = z.input<typeof CheckOptsSchema>;

function parseOpts(raw: CheckOpts): z.output<typeof CheckOptsSchema> {
  const parsed = CheckOptsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option = `--${String(issue.path[0] ?? 'format')}`;
  throw new UsageError(issue.message.startsWith('--') ? issue.message : `${option}: ${issue.message}`, { option });
}

/** A definition file as given: its path kept as written (SARIF and annotations want it relative). */
function fileDefinition(file: string): CheckedDefinition {
  const loaded = loadDefinitionFile(file);
  return { definition: loaded.definition, file, ...(loaded.text !== undefined ? { text: loaded.text } : {}) };
}

type Against = { def: CheckedDefinition; version: CheckedVersion };

/** Not found (not deployed, or no such file or version): the one error the search for another version passes over. */
function notFound(err: unknown): boolean {
  if (!(err instanceof LedgerflowError)) return false;
  if (err.code === 'LF_WORKFLOW_NOT_DEPLOYED') return true;
  return err.code === 'LF_USAGE' && err.message.startsWith('no definition of') && err.meta.files === undefined;
}

/**
 * With no --against: the newest other version of the workflow — over NATS the deployed one, on the embedded store the
 * one in ./definitions or among the bundled ones (as `start <id>@<version>` finds it). The newest first; when that is
 * the new version itself, the versions below it, newest first. Null when there is none (a first version).
 */
async function otherVersion(g: GlobalOpts, after: CheckedDefinition): Promise<Against | null> {
  const { id, version } = after.definition;
  const nats = usesNats(g);
  const side = nats ? await sideFor(g) : null;
  const find = async (ref: string): Promise<Against | null> => {
    try {
      if (side) {
        const definition = await side.version(ref);
        const v = definition.version;
        return {
          def: { definition, file: `${id}@${v} (deployed)` },
          version: { file: null, version: v, source: 'deployed' },
        };
      }
      const loaded = findDefinition(ref);
      const file = relative(process.cwd(), loaded.file) || loaded.file;
      return {
        def: { definition: loaded.definition, file, ...(loaded.text !== undefined ? { text: loaded.text } : {}) },
        version: { file, version: loaded.definition.version, source: 'definitions' },
      };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  };
  const newest = await find(id);
  if (newest === null || newest.version.version !== version) return newest;
  for (let v = version - 1; v >= 1; v--) {
    const below = await find(`${id}@${v}`);
    if (below) return below;
  }
  return null;
}

async function againstOf(g: GlobalOpts, after: CheckedDefinition, file: string | undefined): Promise<Against | null> {
  if (file === undefined) return otherVersion(g, after);
  const def = fileDefinition(file);
  if (def.definition.id !== after.definition.id)
    throw new UsageError(
      `--against ${file} is workflow ${def.definition.id}, not ${after.definition.id}: compare two versions of one workflow`,
      { option: '--against', value: file },
    );
  return { def, version: { file, version: def.definition.version, source: 'file' } };
}

function rendered(report: CheckReport, format: (typeof FORMATS)[number]): string {
  switch (format) {
    case 'json':
      return `${json(report)}\n`;
    case 'sarif':
      return `${json(sarifReport(report, packageVersion()))}\n`;
    case 'junit':
      return junitReport(report);
    default:
      return textReport(report);
  }
}

export async function checkCmd(io: Io, g: GlobalOpts, file: string, raw: CheckOpts): Promise<number> {
  const opts = parseOpts(raw);
  if (opts.json && opts.format !== undefined && opts.format !== 'json')
    throw new UsageError(`--json and --format ${opts.format} ask for two formats: give one`, { option: '--format' });
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  const map = parseTaskMap(opts.map);
  const after = fileDefinition(file);
  // As migrate: each new id of the map is a task of the new version.
  checkTaskMap(map, workflowOf(after.definition));
  const against = await againstOf(g, after, opts.against);
  // An embedded store never written here (a CI checkout) has no runs: nothing is opened, nothing made.
  const store = usesNats(g) || existsSync(localDir(g)) ? storeFor(g) : null;
  const report = await runGate({
    after,
    before: against?.def ?? null,
    // A parent that reads an output the new version drops is in the same folder, as `validate` looks for children.
    parents: parentsIn(dirname(file), after.definition.id),
    versions: { new: { file, version: after.definition.version, source: 'file' }, against: against?.version ?? null },
    store,
    map,
    history: opts.history ?? 0,
    strict: opts.strict === true,
    warn: (m) => io.err(`warning: ${inert(m)}`),
  });
  const text = rendered(report, format);
  if (opts.output !== undefined) {
    try {
      writeFileSync(opts.output, text);
    } catch (err) {
      throw new UsageError(`--output ${opts.output}: cannot write the report: ${errorMessage(err)}`, {
        option: '--output',
        value: opts.output,
      });
    }
    io.out(textReport(report).trimEnd());
  } else io.out(text.trimEnd());
  return report.safe ? EXIT.ok : EXIT.failed;
}
