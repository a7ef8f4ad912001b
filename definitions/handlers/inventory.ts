/**
 * Handlers of the inventory validation workflow (seed 003): scan a folder,
 * load a policy listing required files, check one against the other, and
 * write VALIDATION.RECEIPT.yaml. Real work on real files; each handler is
 * safe to re-run for the same attempt (the receipt is rewritten whole).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Handlers, TaskContext } from 'ledgerflow';

interface ManifestEntry { path: string; size: number; sha256: string }
interface PolicyRules { required_files: string[]; recommended_files: string[]; forbidden_files: string[] }

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
function parsePolicy(text: string, file: string): PolicyRules {
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

const handlers: Handlers = {
  async scan_files(input, ctx: TaskContext) {
    const folder = String(input.folder ?? '');
    const info = await stat(folder).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`target folder ${folder} does not exist or is not a folder`);
    const files = await walk(folder);
    const manifest: ManifestEntry[] = [];
    for (const path of files) {
      if (ctx.signal.aborted) throw new Error('scan aborted');
      const body = await readFile(join(folder, path));
      manifest.push({ path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }
    ctx.log(`${files.length} files in ${folder}`);
    return { file_list: files, scan_timestamp: new Date().toISOString(), total_files: files.length, file_manifest: manifest };
  },

  async load_policy(input) {
    const file = String(input.policy ?? '');
    const text = await readFile(file, 'utf8');
    const rules = parsePolicy(text, file);
    return { policy_rules: rules, required_files: rules.required_files };
  },

  async validate_compliance(input) {
    const files = new Set(asList(input.file_list));
    const rules = input.rules as PolicyRules;
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
    // Required or forbidden files decide a strict failure; only recommended ones missing is a soft one.
    const compliance_status = missingRequired.length + forbidden.length > 0 ? 'FAIL_STRICT' : missingRecommended.length > 0 ? 'FAIL_SOFT' : 'PASS';
    const checks = rules.required_files.length + rules.recommended_files.length + rules.forbidden_files.length;
    return {
      compliance_status,
      violations,
      compliance_score: Math.round((100 * (checks - violations.length)) / checks),
      checked_files: files.size,
    };
  },

  async generate_receipt(input, ctx) {
    const target = String(ctx.task.output.values.receipt_file ?? 'VALIDATION.RECEIPT.yaml');
    const validation = (input.validation_data ?? {}) as Record<string, unknown>;
    const receipt = {
      receipt: {
        workflow: ctx.workflowId,
        run_id: ctx.runId,
        idempotency_key: ctx.idempotencyKey,
        scanned_at: input.timestamp ?? null,
        compliance_status: validation.compliance_status ?? null,
        compliance_score: validation.compliance_score ?? null,
        violations: validation.violations ?? [],
        checked_files: validation.checked_files ?? null,
      },
    };
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, stringify(receipt));
    ctx.log(`receipt written to ${target}`);
    return { validation_receipt: target, receipt_file: target, compliance_status: validation.compliance_status ?? null };
  },
};

export default handlers;
