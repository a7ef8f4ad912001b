/**
 * The dashboard's editor (docs/dashboard.md#editing-a-definition): a draft's text checked as `ledgerflow validate`
 * checks a file, the replay verdict of the draft over the workflow's recorded runs, and the embedded store's deploy,
 * which writes the draft into the definitions folder (the file the workflow's latest version came from, else
 * `<id>.yaml`), as a person would edit that file and `serve` would then find it.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { definitionHash, workflowGraph, type Definition, type WorkflowGraph } from '../definition/index.js';
import { formatDiagnostic, UsageError, type Diagnostic } from '../errors/index.js';
import { checkDefinitionText, packageRoot, readDefinitionSource, type FolderDefinitions } from '../files/index.js';
import { Engine } from '../local/index.js';
import { loadCatalog } from '../templates/index.js';
import type { EventStore } from '../store/index.js';
import type { DefinitionVersion, DeployOutcome } from './backend.js';
import { definitionsInFolder } from './definitions.js';

/** The draft checked: its problems (errors and warnings, each at line:col) and, when it validates, its definition and graph. */
export interface CheckedDraft {
  definition: Definition | null;
  issues: Diagnostic[];
  valid: boolean;
  graph: WorkflowGraph | null;
}

/** A folder that holds nothing (NATS: a draft's children are deployed ones, not files beside it). */
const NO_FOLDER: FolderDefinitions = () => [];

/** The file name a draft is said as: its workflow id's file, as `ledgerflow new` names one. */
export function draftFileName(yaml: string): string {
  const id = /^\s*id:\s*["']?([A-Za-z0-9_-]+)/m.exec(yaml)?.[1];
  return `${id ?? 'draft'}.yaml`;
}

/** `ledgerflow validate` of the draft's text, as if it were `<definitionsDir>/<id>.yaml` (or, on NATS, a file alone). */
export function checkDraft(yaml: string, definitionsDir: string | undefined): CheckedDraft {
  const name = draftFileName(yaml);
  const file = definitionsDir ? join(definitionsDir, name) : name;
  const { definition, problems } = checkDefinitionText(yaml, file, definitionsDir ? {} : { folder: NO_FOLDER });
  // Said by the file's name only: the server's folders are not the page's business.
  const issues = problems.map((d) => ({ ...d, file: name }));
  const valid = definition !== null && !issues.some((d) => d.severity === 'error');
  return {
    definition: valid ? definition : null,
    issues,
    valid,
    graph: valid && definition ? workflowGraph(definition) : null,
  };
}

/** The 400 an invalid draft answers: the first error as `validate` prints it, and every issue. */
export function invalidDraft(checked: CheckedDraft): {
  error: { code: string; message: string };
  issues: Diagnostic[];
} {
  const first = checked.issues.find((d) => d.severity === 'error') ?? checked.issues[0];
  const more = checked.issues.filter((d) => d.severity === 'error').length - 1;
  const message = first
    ? `${formatDiagnostic(first)}${more > 0 ? ` (and ${more} more)` : ''}`
    : 'the draft does not validate';
  return { error: { code: 'LF_DEFINITION_INVALID', message }, issues: checked.issues };
}

/** One recorded run under the draft: whether it takes over, else the first event it would not replay. */
export interface DraftVerdictRow {
  runId: string;
  version: number;
  status: string;
  takesOver: boolean;
  divergence?: { seq: number; type: string; reason: string };
}

export interface DraftVerdict {
  workflowId: string;
  version: number;
  runs: number;
  takesOver: number;
  cannot: number;
  rows: DraftVerdictRow[];
}

/** `replay --all --workflow <id> --candidate <draft>`: each recorded run of the draft's workflow, taken over or not. */
export async function draftVerdict(store: EventStore, candidate: Definition): Promise<DraftVerdict> {
  const engine = new Engine({ store });
  const rows: DraftVerdictRow[] = [];
  for await (const report of engine.replayAll({ workflowId: candidate.id, candidate, onCorrupt: () => undefined })) {
    const c = report.candidate;
    const d = c?.divergence;
    rows.push({
      runId: report.runId,
      version: report.view.version,
      status: report.view.status,
      takesOver: c?.compatible ?? true,
      ...(c && !c.compatible && d ? { divergence: { seq: d.seq, type: d.type, reason: d.reason } } : {}),
    });
  }
  const takesOver = rows.filter((r) => r.takesOver).length;
  return {
    workflowId: candidate.id,
    version: candidate.version,
    runs: rows.length,
    takesOver,
    cannot: rows.length - takesOver,
    rows,
  };
}

/**
 * The embedded store's deploy: the draft written over the file of its workflow's latest version in the folder (a new
 * workflow: `<id>.yaml`), atomically. As on NATS, a version already known with other content is refused (bump
 * `version`); the same content is `changed: false`, nothing written. A version below the latest known is refused too:
 * the file would go back in time. Runs keep the definition they started with.
 */
export function folderDeploy(
  definitionsDir: string,
  yaml: string,
  def: Definition,
  known: DefinitionVersion[],
): DeployOutcome {
  const mine = known.filter((d) => d.id === def.id && d.definition !== null);
  const hash = definitionHash(def);
  const same = mine.filter((d) => d.version === def.version);
  const other = same.find((d) => definitionHash(d.definition!) !== hash);
  if (other)
    throw new UsageError(
      `${def.id} version ${def.version} is already ${other.source === 'runs' ? 'recorded in runs' : 'in the definitions folder'} with other content; bump \`version\` to deploy a change`,
      { workflowId: def.id, version: def.version, field: 'version' },
    );
  // Already the folder's file: nothing to write. (Known only from runs, it is written: `start` then finds it as a file.)
  const inFolder = same.find((d) => d.source === 'file');
  if (inFolder)
    return {
      workflowId: def.id,
      version: def.version,
      hash,
      changed: false,
      ...(inFolder.file ? { file: basename(inFolder.file) } : {}),
    };
  const latest = Math.max(0, ...mine.map((d) => d.version));
  if (def.version < latest)
    throw new UsageError(
      `${def.id} version ${def.version} is below the latest known version ${latest}: give it version ${latest + 1}`,
      { workflowId: def.id, version: def.version, field: 'version' },
    );
  const dir = resolve(definitionsDir);
  const ownFile = definitionsInFolder(dir)
    .filter((d) => d.id === def.id && d.source === 'file')
    .sort((a, b) => b.version - a.version)[0]?.file;
  const file = ownFile ?? join(dir, `${def.id}.yaml`);
  if (!ownFile && existsSync(file))
    throw new UsageError(
      `${basename(file)} in the definitions folder holds another workflow: rename it or give this workflow another id`,
      { workflowId: def.id, field: 'workflow.id' },
    );
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, yaml.endsWith('\n') ? yaml : `${yaml}\n`);
  renameSync(tmp, file);
  return { workflowId: def.id, version: def.version, hash, changed: true, file: basename(file) };
}

/** A template offered as a new draft: the catalogue's entry and its definition file's text. */
export interface DraftTemplate {
  id: string;
  title: string;
  description: string;
  yaml: string;
}

/** The bundled templates (`ledgerflow templates`), each with its definition's text to start a draft from. */
export function draftTemplates(): DraftTemplate[] {
  const root = packageRoot();
  return loadCatalog(root).templates.flatMap((t) => {
    const read = readDefinitionSource(join(root, t.definition));
    return 'text' in read ? [{ id: t.id, title: t.title, description: t.description, yaml: read.text }] : [];
  });
}
