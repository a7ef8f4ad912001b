/**
 * Handlers of the compliance-audit workflow (definitions/compliance-audit.yaml,
 * policy compliance checks). Each folder is checked against every
 * rule: `required` (a file that must be there), `forbidden` (a name pattern,
 * * and ? as wildcards, no file may match), `max_bytes` (no file larger).
 * Deterministic (sorted names, no clock): a re-run writes the same report.
 *
 *   load_rules    the policy's rules, checked
 *   list_folders  the folders under the root
 *   check_folder  one folder (a MAP item): its violations, PASS or FAIL
 *   write_report  audit-reports/<label>.yaml; PASS only when every folder passed
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NonRetryableError, parseYaml as parse, stringifyYaml as stringify } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

interface Rule { id: string; required?: string; forbidden?: string; max_bytes?: number }
interface FolderResult { folder: string; status: 'PASS' | 'FAIL'; files: number; violations: { rule: string; detail: string }[] }

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'AUDIT_BAD_INPUT');
  return v;
}

const pattern = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

export const handlers: Handlers = {
  async load_rules(input) {
    const file = text(input, 'policy');
    let doc: { rules?: unknown } | null;
    try {
      doc = parse(await readFile(file, 'utf8')) as typeof doc;
    } catch (err) {
      throw new NonRetryableError(`cannot read the policy ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'AUDIT_NO_POLICY');
    }
    if (!Array.isArray(doc?.rules) || doc.rules.length === 0) throw new NonRetryableError(`${file}: expected rules: [{ id, required | forbidden | max_bytes }]`, 'AUDIT_BAD_POLICY');
    const rules = doc.rules.map((r, i) => {
      const rule = (r ?? {}) as Rule;
      const kinds = ['required', 'forbidden', 'max_bytes'].filter((k) => (rule as unknown as Record<string, unknown>)[k] !== undefined);
      if (typeof rule.id !== 'string' || kinds.length !== 1) throw new NonRetryableError(`${file}: rules[${i}] needs an id and exactly one of required, forbidden, max_bytes`, 'AUDIT_BAD_POLICY');
      return rule;
    });
    return { rules };
  },

  async list_folders(input) {
    const root = text(input, 'root');
    const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new NonRetryableError(`cannot read the root ${root}: ${err.code ?? err.message}`, 'AUDIT_NO_ROOT');
    });
    return { folders: entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(root, e.name)).sort() };
  },

  async check_folder(input): Promise<FolderResult> {
    const folder = text(input, 'folder');
    const rules = (input.rules ?? []) as Rule[];
    const names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
    const violations: FolderResult['violations'] = [];
    for (const rule of rules) {
      if (rule.required !== undefined && !names.includes(rule.required)) violations.push({ rule: rule.id, detail: `${rule.required} is missing` });
      if (rule.forbidden !== undefined) for (const n of names.filter((x) => pattern(rule.forbidden!).test(x))) violations.push({ rule: rule.id, detail: `${n} is forbidden` });
      if (rule.max_bytes !== undefined) {
        for (const n of names) {
          const size = (await stat(join(folder, n))).size;
          if (size > rule.max_bytes) violations.push({ rule: rule.id, detail: `${n} is ${size} bytes, over ${rule.max_bytes}` });
        }
      }
    }
    return { folder, status: violations.length === 0 ? 'PASS' : 'FAIL', files: names.length, violations };
  },

  async write_report(input) {
    const label = text(input, 'label');
    if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new NonRetryableError(`label ${JSON.stringify(label)}: letters, digits, . _ - (it names the report)`, 'AUDIT_BAD_INPUT');
    const results = ((input.results ?? []) as (FolderResult | null)[]).filter((r): r is FolderResult => r !== null);
    const failing = results.filter((r) => r.status === 'FAIL');
    const violations = failing.flatMap((r) => r.violations.map((v) => `${r.folder}: ${v.rule}: ${v.detail}`));
    const status = failing.length === 0 ? 'PASS' : 'FAIL';
    const report = join('audit-reports', `${label}.yaml`);
    await mkdir('audit-reports', { recursive: true });
    await writeFile(report, stringify({ audit: { root: text(input, 'root'), status, folders: results.length, failing: failing.length, results } }));
    return { status, folders: results.length, failing: failing.length, violations, report };
  },
};

export default handlers;
