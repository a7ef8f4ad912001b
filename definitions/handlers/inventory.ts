/**
 * Handlers of the inventory validation workflow: scan a folder,
 * load a policy listing required files, check one against the other, and
 * write the receipt into the folder it covers (<folder>/VALIDATION.RECEIPT.yaml,
 * naming the folder), so runs over different folders never overwrite each
 * other's. The scan leaves receipts out, so a second run sees the files the
 * first saw. Real work on real files; each handler is safe to re-run for the
 * same attempt (the receipt is rewritten whole). The functions are exported
 * for the batch validation (batch-inventory.ts), which runs them per folder.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { NonRetryableError, parseYaml as parse, stringifyYaml as stringify } from 'ledgerflow';
import type { Handlers, TaskContext } from 'ledgerflow';

export interface ManifestEntry { path: string; size: number; sha256: string }
export interface PolicyRules { required_files: string[]; recommended_files: string[]; forbidden_files: string[] }
export interface Validation { compliance_status: 'PASS' | 'FAIL_SOFT' | 'FAIL_STRICT'; violations: string[]; compliance_score: number; checked_files: number }

/** The receipt's name (its declared `receipt_file`'s basename). */
export const RECEIPT_NAME = 'VALIDATION.RECEIPT.yaml';
/** A receipt at a folder's top level is the validation's own output, not part of the inventory. */
const isReceipt = (path: string) => !path.includes('/') && /RECEIPT\.ya?ml$/i.test(path);

async function walk(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await walk(root, full)));
    else if (e.isFile()) files.push(relative(root, full).split('\\').join('/'));
  }
  return files;
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** A policy is YAML (or JSON), or Markdown holding a ```yaml block or a bullet list of required files. */
export function parsePolicy(text: string, file: string): PolicyRules {
  let doc: unknown;
  if (/\.(md|markdown)$/i.test(file)) {
    const block = /```ya?ml\n([\s\S]*?)```/.exec(text);
    doc = block ? parse(block[1]!) : { required_files: [...text.matchAll(/^\s*[-*]\s+`?([^`\s]+)`?\s*$/gm)].map((m) => m[1]) };
  } else {
    doc = parse(text);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  const rules = { required_files: asList(d.required_files), recommended_files: asList(d.recommended_files), forbidden_files: asList(d.forbidden_files) };
  if (rules.required_files.length + rules.recommended_files.length + rules.forbidden_files.length === 0) {
    throw new Error(`policy ${file} lists no required_files, recommended_files or forbidden_files`);
  }
  return rules;
}

export async function loadPolicy(file: string): Promise<PolicyRules> {
  return parsePolicy(await readFile(file, 'utf8'), file);
}

/** Every file under `folder` (sorted, `/`-separated, receipts at its top level left out) with its size and hash. */
export async function scanFolder(folder: string, signal?: AbortSignal): Promise<{ files: string[]; manifest: ManifestEntry[] }> {
  const info = await stat(folder).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`target folder ${folder} does not exist or is not a folder`);
  const files = (await walk(folder)).filter((f) => !isReceipt(f));
  const manifest: ManifestEntry[] = [];
  for (const path of files) {
    if (signal?.aborted) throw new Error('scan aborted');
    const body = await readFile(join(folder, path));
    manifest.push({ path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  }
  return { files, manifest };
}

/** A folder's files against a policy: required or forbidden files decide a strict failure; only recommended ones missing is a soft one. */
export function validate(fileList: readonly string[], rules: PolicyRules): Validation {
  const files = new Set(fileList);
  const basenames = new Set([...files].map((f) => f.split('/').at(-1)!));
  const present = (name: string) => files.has(name) || basenames.has(name);
  const missingRequired = rules.required_files.filter((f) => !present(f));
  const missingRecommended = rules.recommended_files.filter((f) => !present(f));
  const forbidden = rules.forbidden_files.filter((f) => present(f));
  const violations = [
    ...missingRequired.map((f) => `${f} missing`),
    ...forbidden.map((f) => `${f} is forbidden`),
    ...missingRecommended.map((f) => `${f} missing (recommended)`),
  ];
  const compliance_status = missingRequired.length + forbidden.length > 0 ? 'FAIL_STRICT' : missingRecommended.length > 0 ? 'FAIL_SOFT' : 'PASS';
  const checks = rules.required_files.length + rules.recommended_files.length + rules.forbidden_files.length;
  return { compliance_status, violations, compliance_score: Math.round((100 * (checks - violations.length)) / checks), checked_files: files.size };
}

/** Writes `<folder>/<name>`, a receipt naming the folder it covers; returns its path. */
export async function writeReceipt(folder: string, name: string, fields: Record<string, unknown>): Promise<string> {
  const target = join(folder, name);
  await mkdir(folder, { recursive: true });
  await writeFile(target, stringify({ receipt: { folder, ...fields } }));
  return target;
}

/**
 * The policy a run without `policy_file` uses when its folder has none: the sample delivery policy
 * (definitions/samples/INVENTORY.POLICY.yaml), written here so that it travels with the handler wherever it is copied.
 */
export const DEFAULT_POLICY: PolicyRules = {
  required_files: ['README.md', 'LICENSE', 'manifest.yaml'],
  recommended_files: ['docs/CHANGELOG.md'],
  forbidden_files: ['.env'],
};

const POLICY_FILE = /\.(ya?ml|json|md|markdown)$/i;

/**
 * A run without `policy_file`: the policy in `<folder>/.3ox.index/POLICY/`, else in its parent's (a station keeps
 * its `.3ox.index/` beside its 0UT.3OX); the one policy file there, or INVENTORY.POLICY.yaml among several.
 * null: neither holds one (the bundled default applies).
 */
export async function folderPolicy(folder: string): Promise<string | null> {
  for (const base of [folder, join(folder, '..')]) {
    const dir = join(base, '.3ox.index', 'POLICY');
    const names = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && POLICY_FILE.test(e.name)).map((e) => e.name).sort();
    if (names.length === 1) return join(dir, names[0]!);
    if (names.includes('INVENTORY.POLICY.yaml')) return join(dir, 'INVENTORY.POLICY.yaml');
    if (names.length > 1) {
      throw new NonRetryableError(`${dir} holds ${names.length} policies (${names.join(', ')}): name one with policy_file, or call the one to use INVENTORY.POLICY.yaml`, 'INVENTORY_BAD_INPUT');
    }
  }
  return null;
}

/**
 * The input `name`, or a failure naming it and the inputs the task was given: a definition that passes
 * it under another name (`policy_rules:` for `rules:`) is told so, not met with a TypeError.
 */
function needed(input: Record<string, unknown>, name: string, what: string): unknown {
  const v = input[name];
  if (v !== undefined && v !== null && v !== '') return v;
  const given = Object.keys(input).filter((k) => input[k] !== undefined);
  throw new NonRetryableError(`input "${name}" (${what}) is missing: the task was given ${given.length > 0 ? given.map((k) => `"${k}"`).join(', ') : 'no input'}; pass it as ${name}: in the task's input`, 'INVENTORY_BAD_INPUT');
}

const handlers: Handlers = {
  async scan_files(input, ctx: TaskContext) {
    const folder = String(needed(input, 'folder', 'the folder to scan'));
    const { files, manifest } = await scanFolder(folder, ctx.signal);
    ctx.log(`${files.length} files in ${folder}`);
    return { file_list: files, scan_timestamp: new Date().toISOString(), total_files: files.length, file_manifest: manifest };
  },

  async load_policy(input, ctx) {
    const given = input.policy;
    const file = typeof given === 'string' && given !== '' ? given : await folderPolicy(String(ctx.workflowInput?.target_folder ?? '.'));
    const rules = file === null ? DEFAULT_POLICY : await loadPolicy(file);
    // Said only when no policy_file was given: which policy the run then found is not on its command line.
    if (file !== given) ctx.log(`policy: ${file ?? 'the bundled default (no policy_file, none in .3ox.index/POLICY/)'}`);
    return { policy_rules: rules, required_files: rules.required_files, policy_source: file ?? 'bundled' };
  },

  async validate_compliance(input) {
    const rules = needed(input, 'rules', "the policy rules, load_policy's policy_rules") as PolicyRules;
    return validate(asList(needed(input, 'file_list', "the files, scan_files's file_list")), rules);
  },

  async generate_receipt(input, ctx) {
    // The declared receipt_file (0UT.3OX/VALIDATION.RECEIPT.yaml in the definition, 0UT.3OX being its usual target) gives the
    // name; the run's target folder gives the place, so each folder keeps its own receipt.
    const declared = String(ctx.task.output.values.receipt_file ?? RECEIPT_NAME);
    const folder = ctx.workflowInput?.target_folder;
    const validation = (input.validation_data ?? {}) as Record<string, unknown>;
    const fields = {
      workflow: ctx.workflowId,
      run_id: ctx.runId,
      idempotency_key: ctx.idempotencyKey,
      scanned_at: input.timestamp ?? null,
      compliance_status: validation.compliance_status ?? null,
      compliance_score: validation.compliance_score ?? null,
      violations: validation.violations ?? [],
      checked_files: validation.checked_files ?? null,
    };
    const target = typeof folder === 'string' && folder !== ''
      ? await writeReceipt(folder, basename(declared), fields)
      // A context without the run's input (built by hand): the declared path, as the definition writes it.
      : await writeReceipt(declared.includes('/') ? declared.slice(0, declared.lastIndexOf('/')) : '.', basename(declared), fields);
    ctx.log(`receipt written to ${target}`);
    return { validation_receipt: target, receipt_file: target, compliance_status: validation.compliance_status ?? null };
  },
};

export default handlers;
